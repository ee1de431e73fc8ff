/** Codes against the embedded store: what a code is bound to, records nobody can redeem, the try limit. */
import { MemoryEphemeralStore } from '../../src/storage/memory/index.js';
import type { AppRecord } from '../../src/storage/ports.js';
import { CODE_MAX_WRONG_TRIES, checkCode, issueCode } from '../../src/sign-in/one-time-code-secret.js';

const store = new MemoryEphemeralStore();
afterAll(() => store.close());

let n = 0;
const attempt = () => ({ app: { id: 'app_codes' } as AppRecord, uid: `uid-${++n}`, secret: 'attempt-secret' });
const check = (a: ReturnType<typeof attempt>, typed: string, boundTo?: string) => checkCode<{ for: string }>(a, store, 'mfa-email', typed, { ttlSeconds: 60, boundTo });

describe('one-time codes', () => {
  it('is right once, for the code that was sent', async () => {
    const a = attempt();
    const code = await issueCode(a, store, 'otp', { for: 'x' }, 60);
    expect(await checkCode(a, store, 'otp', ` ${code.slice(0, 3)} ${code.slice(3)} `, { ttlSeconds: 60 })).toEqual({ status: 'ok', stored: expect.objectContaining({ for: 'x' }) });
    expect((await checkCode(a, store, 'otp', code, { ttlSeconds: 60 })).status).toBe('expired');
  });

  it('is right only for the account it was bound to', async () => {
    const a = attempt();
    const code = await issueCode(a, store, 'mfa-email', { for: 'acc_1' }, 60, { boundTo: 'acc_1' });
    expect((await check(a, code, 'acc_2')).status).toBe('wrong');
    expect((await check(a, code)).status).toBe('wrong');
    expect((await check(a, code, 'acc_1')).status).toBe('ok');
  });

  it('never redeems a record that is not redeemable: the right code is just wrong', async () => {
    const a = attempt();
    const code = await issueCode(a, store, 'otp', { for: 'nobody' }, 60, { redeemable: false });
    expect(await checkCode(a, store, 'otp', code, { ttlSeconds: 60 })).toEqual({ status: 'wrong', stored: expect.objectContaining({ for: 'nobody' }) });
    expect((await checkCode(a, store, 'otp', 'not a code', { ttlSeconds: 60 })).status).toBe('wrong');
  });

  it(`counts every try: after ${CODE_MAX_WRONG_TRIES} wrong ones the right code is refused and the record is gone`, async () => {
    const a = attempt();
    const code = await issueCode(a, store, 'otp', { for: 'x' }, 60);
    for (let i = 0; i < CODE_MAX_WRONG_TRIES; i++) expect((await checkCode(a, store, 'otp', code === '000000' ? '111111' : '000000', { ttlSeconds: 60 })).status).toBe('wrong');
    expect((await checkCode(a, store, 'otp', code, { ttlSeconds: 60 })).status).toBe('exhausted');
    // A new code starts its own count.
    const next = await issueCode(a, store, 'otp', { for: 'x' }, 60);
    expect((await checkCode(a, store, 'otp', next, { ttlSeconds: 60 })).status).toBe('ok');
  });
});
