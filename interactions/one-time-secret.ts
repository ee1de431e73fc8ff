/**
 * Short codes a person proves by typing them back, shared by sign-in codes and registration (NIST SP 800-63B
 * §5.1.3 out-of-band / §5.1.4 OTP): 6 random digits, stored only as an HMAC bound to the interaction and the
 * purpose (a code for one flow or one sign-in never works in another), at most 5 wrong tries per code, single use.
 */
import { randomInt } from 'node:crypto';
import type { EphemeralStore } from '../src/storage/ports.js';
import { hmac, safeEqual } from '../src/crypto/random.js';
import type { Step } from './context.js';

export const CODE_MAX_WRONG_TRIES = 5;

type Bound = Pick<Step, 'app' | 'uid' | 'provider'>;

/** A uniformly random 6-digit code. */
export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Ephemeral-store keys of one purpose's code in one interaction. */
export function secretKeys(step: Bound, purpose: string) {
  return {
    code: `app:${step.app.id}:${purpose}:${step.uid}`,
    tries: `app:${step.app.id}:${purpose}-tries:${step.uid}`,
    resend: `app:${step.app.id}:${purpose}-resend:${step.uid}`,
  };
}

/** HMAC of the code with the app's cookie key, bound to the purpose and the interaction. */
export function codeHash(step: Bound, purpose: string, code: string): string {
  return hmac(String((step.provider.keys as string[])[0]), `${purpose}:${step.uid}:${code}`);
}

export type CodeCheck<T> =
  | { status: 'ok'; stored: T }
  /** Not the code, or a record that can never be redeemed (then the code was never sent). */
  | { status: 'wrong'; stored: T }
  /** Too many wrong tries: the code is deleted. */
  | { status: 'exhausted' }
  | { status: 'expired' };

/**
 * Checks a typed code against the stored record (`{hash, …}`) and, when right, takes the record: of two concurrent
 * right answers only one succeeds. Every try counts, right or wrong, so the 6th try fails even with the right code.
 */
export async function checkCode<T extends { hash: string }>(
  step: Bound,
  store: EphemeralStore,
  purpose: string,
  typedRaw: string,
  options: { ttlSeconds: number; redeemable?: (stored: T) => boolean },
): Promise<CodeCheck<T>> {
  const k = secretKeys(step, purpose);
  const typed = typedRaw.replace(/\s/g, '');
  const tries = await store.increment(k.tries, options.ttlSeconds);
  if (tries > CODE_MAX_WRONG_TRIES) {
    await store.delete(k.code);
    return { status: 'exhausted' };
  }
  const stored = await store.get<T>(k.code);
  if (!stored) return { status: 'expired' };
  const redeemable = options.redeemable?.(stored) ?? true;
  if (!/^\d{6}$/.test(typed) || !safeEqual(codeHash(step, purpose, typed), stored.hash) || !redeemable) {
    return { status: 'wrong', stored };
  }
  if (!(await store.take<T>(k.code))) return { status: 'expired' };
  await store.delete(k.tries);
  return { status: 'ok', stored };
}
