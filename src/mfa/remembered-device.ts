/**
 * "Remember this device for N days" (`mfa_remember_days`, off by default): after a second factor, a signed,
 * per-account cookie lets the same browser skip the second factor that the app's policy asks for. The signature
 * (HMAC with the app's cookie key) covers the account, the expiry and a fingerprint of what may revoke it: the
 * account's `signInsValidFrom` (set by a password reset) and the ids of its factors (removing one changes them).
 * A relying party asking for `acr_values=urn:portcullis:acr:mfa` still gets a real second factor, and a remembered
 * device never earns `mfa` in `amr` (the ID token says what was proved in this sign-in).
 */
import { hmac, safeEqual, sha256 } from '../crypto/random.js';
import type { AccountRecord, FactorRecord } from '../storage/ports.js';

export const DEVICE_COOKIE_PREFIX = 'pc_mfa_';

/** One cookie per account, so people sharing a browser never share a remembered device. */
export function deviceCookieName(accountId: string): string {
  return `${DEVICE_COOKIE_PREFIX}${sha256(`device:${accountId}`).slice(0, 16)}`;
}

function fingerprint(account: Pick<AccountRecord, 'id' | 'signInsValidFrom'>, factors: readonly FactorRecord[]): string {
  const ids = factors.filter((f) => f.type !== 'recovery_codes').map((f) => f.id).sort().join(',');
  return sha256(`${account.id}:${account.signInsValidFrom?.getTime() ?? 0}:${ids}`);
}

export function deviceToken(secret: string, account: Pick<AccountRecord, 'id' | 'signInsValidFrom'>, factors: readonly FactorRecord[], expiresAt: number): string {
  return `${expiresAt}.${hmac(secret, `mfa-device:${fingerprint(account, factors)}:${expiresAt}`)}`;
}

export function isRememberedDevice(secret: string, token: string | undefined, account: Pick<AccountRecord, 'id' | 'signInsValidFrom'>, factors: readonly FactorRecord[], now = Date.now()): boolean {
  if (!token || token.length > 200) return false;
  const [exp, mac] = token.split('.');
  const expiresAt = Number(exp);
  if (!mac || !Number.isInteger(expiresAt) || expiresAt * 1000 <= now) return false;
  return safeEqual(mac, hmac(secret, `mfa-device:${fingerprint(account, factors)}:${expiresAt}`));
}
