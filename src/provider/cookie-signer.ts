import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Signs and checks the provider's cookie signatures (`name.sig`) exactly as Keygrip does — HMAC-SHA1 in base64url,
 * newest key signs, every key verifies, so cookies from before a key rotation still verify and existing sessions
 * survive the switch from Keygrip — with one HMAC per key and `crypto.timingSafeEqual`, where Keygrip's `tsscmp`
 * draws random bytes and computes two extra HMACs per comparison. Every sign-in request checks two or three
 * signatures, so this is most of the cookie cost. Koa accepts any object with Keygrip's `sign`/`verify`/`index` as
 * `app.keys`; node-oidc-provider passes `cookies.keys` through when it is not an array.
 */
export class CookieSigner {
  private readonly keys: KeyObject[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('CookieSigner needs at least one key');
    this.keys = keys.map((k) => createSecretKey(Buffer.from(k)));
  }

  sign(data: string): string {
    return this.signWith(this.keys[0], data);
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  /** The index of the key that made `digest` for `data`, or -1. Compares in constant time (OWASP ASVS 6.2). */
  index(data: string, digest: string): number {
    const given = Buffer.from(digest);
    for (let i = 0; i < this.keys.length; i++) {
      const expected = Buffer.from(this.signWith(this.keys[i], data));
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  }

  private signWith(key: KeyObject, data: string): string {
    return createHmac('sha1', key).update(data).digest('base64url');
  }
}
