import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ServiceUnavailableError } from '../errors.js';

/**
 * Authenticated encryption (AES-256-GCM) for secrets that must be readable again, such as client secrets that
 * oidc-provider compares and uses as HMAC keys (OWASP ASVS V6.2: approved algorithms, keys from configuration).
 * Ciphertext format: `v1.{iv}.{tag}.{ciphertext}`, base64url parts.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new TypeError('SecretBox key must be 32 bytes');
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  /** Associated data binds a ciphertext to its owner (app and client id) so it cannot be moved to another record. */
  open(sealed: string, associatedData: string): string {
    try {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unrecognised ciphertext');
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch (error) {
      // Almost always a process started with another SECRETS_KEY than the one the data was sealed with: the request
      // answers 503 (counted under dependency `secrets_key`) and the log says why, rather than an anonymous 500.
      throw new ServiceUnavailableError('secrets_key', new Error('a stored secret cannot be decrypted: SECRETS_KEY is not the key it was sealed with, or the record was altered', { cause: error }));
    }
  }
}
