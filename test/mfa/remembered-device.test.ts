/** The remembered-device token: what revokes it (password reset, a factor change, expiry) and what it refuses. */
import { deviceCookieName, deviceToken, isRememberedDevice } from '../../src/mfa/remembered-device.js';
import type { FactorRecord } from '../../src/storage/ports.js';

const secret = 'cookie-key-1';
const account = { id: 'acc_1', signInsValidFrom: undefined as Date | undefined };
const factor = (id: string, type: FactorRecord['type'] = 'totp'): FactorRecord => ({ appId: 'a', id, accountId: 'acc_1', type, name: id, createdAt: new Date(0), updatedAt: new Date(0) });
const factors = [factor('fac_1'), factor('fac_r', 'recovery_codes')];
const exp = Math.floor(Date.now() / 1000) + 3600;

describe('remembered device token', () => {
  const token = deviceToken(secret, account, factors, exp);

  it('is valid for the same account, factors and key until it expires', () => {
    expect(isRememberedDevice(secret, token, account, factors)).toBe(true);
    expect(isRememberedDevice(secret, token, account, factors, (exp + 1) * 1000)).toBe(false);
  });

  it('is revoked by a password reset, by removing or adding a factor, but not by new recovery codes', () => {
    expect(isRememberedDevice(secret, token, { ...account, signInsValidFrom: new Date() }, factors)).toBe(false);
    expect(isRememberedDevice(secret, token, account, [factor('fac_r', 'recovery_codes')])).toBe(false);
    expect(isRememberedDevice(secret, token, account, [...factors, factor('fac_2', 'webauthn')])).toBe(false);
    expect(isRememberedDevice(secret, token, account, [factor('fac_1'), factor('fac_r2', 'recovery_codes')])).toBe(true);
  });

  it('refuses another account, another key, a changed expiry and garbage', () => {
    expect(isRememberedDevice(secret, token, { id: 'acc_2', signInsValidFrom: undefined }, factors)).toBe(false);
    expect(isRememberedDevice('other-key', token, account, factors)).toBe(false);
    expect(isRememberedDevice(secret, token.replace(String(exp), String(exp + 9999)), account, factors)).toBe(false);
    for (const bad of ['', 'x', '1.', `${exp}.`, 'a'.repeat(500)]) expect(isRememberedDevice(secret, bad, account, factors)).toBe(false);
  });

  it('names one cookie per account', () => {
    expect(deviceCookieName('acc_1')).toMatch(/^pc_mfa_[\w-]{16}$/);
    expect(deviceCookieName('acc_1')).not.toBe(deviceCookieName('acc_2'));
  });
});
