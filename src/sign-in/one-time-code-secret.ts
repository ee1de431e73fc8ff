/**
 * Short codes a person proves by typing them back, shared by sign-in codes and registration (NIST SP 800-63B
 * §5.1.3 out-of-band / §5.1.4 OTP): 6 random digits, stored only as an HMAC bound to the attempt and the purpose (a
 * code for one flow or one sign-in never works in another), at most 5 wrong tries per code, single use.
 */
import { randomInt } from 'node:crypto';
import type { EphemeralStore } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import { hmac, safeEqual } from '../crypto/random.js';
import type { Attempt } from './attempt.js';

export const CODE_MAX_WRONG_TRIES = 5;

/** `mfa-email`: a code emailed as the second factor of a sign-in (never redeemable as a first factor). */
export type CodePurpose = 'otp' | 'register' | 'mfa-email';
type Bound = Pick<Attempt, 'app' | 'uid' | 'secret'>;

/** A uniformly random 6-digit code. */
export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Keys of one purpose's code in one attempt. */
export function codeKeys(attempt: Pick<Bound, 'app' | 'uid'>, purpose: CodePurpose) {
  return { code: shortLivedKey(attempt.app.id, purpose, attempt.uid), tries: shortLivedKey(attempt.app.id, `${purpose}-tries`, attempt.uid) };
}

/** HMAC of the code with the app's secret, bound to the purpose and the attempt. */
function codeHash(attempt: Bound, purpose: CodePurpose, code: string): string {
  return hmac(attempt.secret, `${purpose}:${attempt.uid}:${code}`);
}

/**
 * Stores a new code's record (`hash` added here) for `ttlSeconds`: it replaces the previous code of this attempt
 * (only the newest is valid) and starts its own count of wrong tries. Returns the code to send.
 */
export async function issueCode<T extends object>(attempt: Bound, store: EphemeralStore, purpose: CodePurpose, record: T, ttlSeconds: number): Promise<string> {
  const code = newCode();
  const k = codeKeys(attempt, purpose);
  await Promise.all([store.set(k.code, { ...record, hash: codeHash(attempt, purpose, code) }, ttlSeconds), store.delete(k.tries)]);
  return code;
}

/** The current code's record, without using it. */
export function peekCode<T>(attempt: Bound, store: EphemeralStore, purpose: CodePurpose): Promise<T | undefined> {
  return store.get<T>(codeKeys(attempt, purpose).code);
}

export type CodeCheck<T> =
  | { status: 'ok'; stored: T }
  /** Not the code, or a record that can never be redeemed (then the code was never sent). */
  | { status: 'wrong'; stored: T }
  /** Too many wrong tries: the code is deleted. */
  | { status: 'exhausted' }
  | { status: 'expired' };

/**
 * Checks a typed code against the stored record and, when right, takes the record: of two concurrent right answers
 * only one succeeds. Every try counts, right or wrong, so the 6th try fails even with the right code.
 */
export async function checkCode<T extends object>(
  attempt: Bound,
  store: EphemeralStore,
  purpose: CodePurpose,
  typedRaw: string,
  options: { ttlSeconds: number; redeemable?: (stored: T) => boolean },
): Promise<CodeCheck<T>> {
  const k = codeKeys(attempt, purpose);
  const typed = typedRaw.replace(/\s/g, '');
  // The try is counted and the record read at once (one round trip): the record is used only when the try counts.
  const [tries, stored] = await Promise.all([store.increment(k.tries, options.ttlSeconds), store.get<T & { hash: string }>(k.code)]);
  if (tries > CODE_MAX_WRONG_TRIES) {
    await store.delete(k.code);
    return { status: 'exhausted' };
  }
  if (!stored) return { status: 'expired' };
  const redeemable = options.redeemable?.(stored) ?? true;
  if (!/^\d{6}$/.test(typed) || !safeEqual(codeHash(attempt, purpose, typed), stored.hash) || !redeemable) {
    return { status: 'wrong', stored };
  }
  // Taking the record and dropping its try counter go together: once the record is gone (taken here or by a
  // concurrent right answer) its counter means nothing, and a new code starts its own (issueCode).
  const [taken] = await Promise.all([store.take<T>(k.code), store.delete(k.tries)]);
  if (!taken) return { status: 'expired' };
  return { status: 'ok', stored };
}
