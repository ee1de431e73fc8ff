/**
 * Short codes a person proves by typing them back, shared by sign-in codes and registration (NIST SP 800-63B
 * §5.1.3 out-of-band / §5.1.4 OTP): 6 random digits, stored only as an HMAC bound to the attempt and the purpose (a
 * code for one flow or one sign-in never works in another), at most 5 wrong tries per code, single use.
 */
import { randomInt } from 'node:crypto';
import type { EphemeralStore } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import { hmac } from '../crypto/random.js';
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

/**
 * What a code is bound to beyond its attempt and purpose: `boundTo` (the account an emailed second factor was sent
 * for), so a code is right only for that.
 */
export interface CodeBinding {
  boundTo?: string;
}

/** HMAC of the code with the app's secret, bound to the purpose, the attempt and the binding. */
function codeHash(attempt: Bound, purpose: CodePurpose, code: string, binding: CodeBinding): string {
  return hmac(attempt.secret, binding.boundTo === undefined ? `${purpose}:${attempt.uid}:${code}` : `${purpose}:${attempt.uid}:${binding.boundTo}:${code}`);
}

/** Stands in for the hash of a record that can never be redeemed: no HMAC (base64url, 43 characters) equals it. */
const NEVER_MATCHES = '!unredeemable';

/**
 * Stores a new code's record (`hash` added here) for `ttlSeconds`: it replaces the previous code of this attempt
 * (only the newest is valid) and starts its own count of wrong tries. Returns the code to send. A record that is
 * not `redeemable` (nobody to sign in: the code is never sent) keeps a hash that no code matches, so trying it
 * looks and counts exactly like a wrong code.
 */
export async function issueCode<T extends object>(
  attempt: Bound, store: EphemeralStore, purpose: CodePurpose, record: T, ttlSeconds: number,
  options: CodeBinding & { redeemable?: boolean } = {},
): Promise<string> {
  const code = newCode();
  const k = codeKeys(attempt, purpose);
  const hash = options.redeemable === false ? NEVER_MATCHES : codeHash(attempt, purpose, code, options);
  await Promise.all([store.set(k.code, { ...record, hash }, ttlSeconds), store.delete(k.tries)]);
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
 * Checks a typed code against the stored record and, when right, takes the record, in one step of the store: of
 * two concurrent right answers only one succeeds. Every try counts, right or wrong, so the 6th try fails even with
 * the right code.
 */
export async function checkCode<T extends object>(
  attempt: Bound,
  store: EphemeralStore,
  purpose: CodePurpose,
  typedRaw: string,
  options: CodeBinding & { ttlSeconds: number },
): Promise<CodeCheck<T>> {
  const k = codeKeys(attempt, purpose);
  const typed = typedRaw.replace(/\s/g, '');
  // Whatever was typed counts as a try: the HMAC of anything but the sent code matches no record.
  const expected = codeHash(attempt, purpose, typed, options);
  const found = await store.takeIfMatches<T & { hash: string }>(k.code, { key: k.tries, ttlSeconds: options.ttlSeconds }, CODE_MAX_WRONG_TRIES, 'hash', expected);
  if (found.tries > CODE_MAX_WRONG_TRIES) return { status: 'exhausted' };
  if (!found.record) return { status: 'expired' };
  return found.taken ? { status: 'ok', stored: found.record } : { status: 'wrong', stored: found.record };
}
