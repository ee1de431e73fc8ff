import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** URL-safe random identifier with `bytes` bytes of entropy (default 128 bits). */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** Prefixed, sortable-enough public id such as `acc_…`, `ten_…`. */
export function prefixedId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** SHA-256 in base64url: how single-use link tokens are stored (the token itself only travels in the link). */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

export function hmac(key: Buffer | string, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}

/** Constant-time string comparison (OWASP ASVS V2.x: no timing oracle on secrets). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
