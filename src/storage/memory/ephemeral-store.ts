import type { CounterRef, EphemeralStore, SecretTry } from '../ports.js';
import { claimThenIncrementInSteps, takeIfMatchesInSteps } from '../store-steps.js';
import { ExpiringMap, copy } from './clock-map.js';

/** In-process reference implementation of {@link EphemeralStore}. Single-threaded JS makes every call atomic. */
export class MemoryEphemeralStore implements EphemeralStore {
  private readonly map = new ExpiringMap<unknown>();

  async get<T>(key: string): Promise<T | undefined> {
    return copy(this.map.get(key)) as T | undefined;
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    this.map.set(key, copy(value), ttlSeconds);
  }

  async setIfAbsent(key: string, value: unknown, ttlSeconds: number): Promise<boolean> {
    if (this.map.get(key) !== undefined) return false;
    this.map.set(key, copy(value), ttlSeconds);
    return true;
  }

  async take<T>(key: string): Promise<T | undefined> {
    const value = this.map.get(key);
    this.map.delete(key);
    return value as T | undefined;
  }

  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }

  async increment(key: string, ttlSeconds: number): Promise<number> {
    const remaining = this.map.remainingMs(key);
    const next = ((this.map.get(key) as number | undefined) ?? 0) + 1;
    this.map.set(key, next, remaining === undefined ? ttlSeconds : remaining / 1000);
    return next;
  }

  async ttl(key: string): Promise<number | undefined> {
    const remaining = this.map.remainingMs(key);
    return remaining === undefined ? undefined : Math.ceil(remaining / 1000);
  }

  claimThenIncrement(key: string, value: unknown, ttlSeconds: number, counters: ReadonlyArray<CounterRef>): Promise<number[] | undefined> {
    return claimThenIncrementInSteps(this, key, value, ttlSeconds, counters);
  }

  takeIfMatches<T>(key: string, tries: CounterRef, maxTries: number, field: string, expected: string): Promise<SecretTry<T>> {
    return takeIfMatchesInSteps<T>(this, key, tries, maxTries, field, expected);
  }

  close(): void {
    this.map.close();
  }
}
