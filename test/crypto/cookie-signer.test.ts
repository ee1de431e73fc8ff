import Keygrip from 'keygrip';
import { CookieSigner } from '../../src/provider/cookie-signer.js';

describe('CookieSigner (the provider cookie signatures)', () => {
  const keys = ['first-key-0123456789abcdef', 'older-key-0123456789abcdef'];
  const data = '_session=ZpY3d1Jm0q4Hq4c9zXvI2';

  it('signs exactly as Keygrip does, so cookies signed before the switch still verify', () => {
    const grip = new Keygrip(keys);
    const signer = new CookieSigner(keys);
    for (const value of [data, '', 'ü ✓ and a longer value '.repeat(20)]) {
      expect(signer.sign(value)).toBe(grip.sign(value));
      expect(signer.index(value, grip.sign(value))).toBe(0);
    }
  });

  it('verifies with every key and says which one (rotation), newest signs', () => {
    const older = new Keygrip([keys[1]]).sign(data);
    const signer = new CookieSigner(keys);
    expect(signer.index(data, older)).toBe(1);
    expect(signer.verify(data, older)).toBe(true);
    expect(signer.sign(data)).not.toBe(older);
  });

  it('refuses a tampered value, a foreign key, a truncated or empty signature', () => {
    const signer = new CookieSigner(keys);
    const good = signer.sign(data);
    expect(signer.index(`${data}x`, good)).toBe(-1);
    expect(signer.index(data, new Keygrip(['another-key-entirely']).sign(data))).toBe(-1);
    expect(signer.index(data, good.slice(0, -1))).toBe(-1);
    expect(signer.index(data, '')).toBe(-1);
    expect(signer.verify(data, `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
  });

  it('needs a key', () => {
    expect(() => new CookieSigner([])).toThrow(/at least one key/);
  });
});
