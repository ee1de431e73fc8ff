/**
 * The compound operations of {@link EphemeralStore} made of its plain ones, in separate steps: what a store without
 * scripts uses (memory, MongoDB), and what Redis falls back to while a Cluster migrates the app's slot.
 */
import { safeEqual } from '../crypto/random.js';
import type { CounterRef, EphemeralStore, SecretTry } from './ports.js';

/** {@link EphemeralStore.takeIfMatches} in separate steps (the count and the read together, then the take). */
export async function takeIfMatchesInSteps<T>(
  store: Pick<EphemeralStore, 'increment' | 'get' | 'take' | 'delete'>, key: string, tries: CounterRef, maxTries: number, field: string, expected: string,
): Promise<SecretTry<T>> {
  const [count, record] = await Promise.all([store.increment(tries.key, tries.ttlSeconds), store.get<T>(key)]);
  if (count > maxTries) {
    await store.delete(key);
    return { tries: count, taken: false };
  }
  const value = (record as Record<string, unknown> | undefined)?.[field];
  if (typeof value !== 'string' || !safeEqual(value, expected)) return { tries: count, record, taken: false };
  // A concurrent matching try may have taken it meanwhile: then this one finds nothing.
  const [taken] = await Promise.all([store.take<T>(key), store.delete(tries.key)]);
  return taken === undefined ? { tries: count, taken: false } : { tries: count, record: taken, taken: true };
}

/** {@link EphemeralStore.claimThenIncrement} in separate steps: a refused claim never reaches the counters. */
export async function claimThenIncrementInSteps(
  store: Pick<EphemeralStore, 'setIfAbsent' | 'increment'>, key: string, value: unknown, ttlSeconds: number, counters: ReadonlyArray<CounterRef>,
): Promise<number[] | undefined> {
  if (!(await store.setIfAbsent(key, value, ttlSeconds))) return undefined;
  return Promise.all(counters.map((counter) => store.increment(counter.key, counter.ttlSeconds)));
}
