import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { ServiceUnavailableError } from '../../src/errors.js';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, for the same owner only', () => {
    const sealed = box.seal('s3cret', 'app_1:client_1');
    expect(box.open(sealed, 'app_1:client_1')).toBe('s3cret');
    expect(() => box.open(sealed, 'app_1:client_2')).toThrow(ServiceUnavailableError);
  });

  it('answers 503 secrets_key, saying why, when the key is not the one the secret was sealed with', () => {
    const sealed = box.seal('s3cret', 'owner');
    let thrown: unknown;
    try {
      new SecretBox(randomBytes(32)).open(sealed, 'owner');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ServiceUnavailableError);
    expect(thrown).toMatchObject({ status: 503, error: 'temporarily_unavailable', dependency: 'secrets_key' });
    expect(String((thrown as Error).cause)).toContain('SECRETS_KEY');
    expect(() => box.open('not-a-ciphertext', 'owner')).toThrow(ServiceUnavailableError);
  });
});
