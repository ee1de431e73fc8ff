/**
 * Second factors end to end through the started server: TOTP enrolment and sign-in (codes computed with otpauth
 * from the secret read off the page), replay refusal, lockout, recovery codes, the Admin API factor routes, the
 * `mfa` policy of apps and tenants, and step-up with `acr_values`; openid-client checks `acr` and `amr`.
 */
import { Browser, choices, type Page } from '../support/browser.js';
import { choose, open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { lastMessage } from '../support/outbox.js';
import { Authenticator, recoveryCodesOn, secretOn } from '../support/totp.js';

const PASSWORD = 'correct horse battery';
const MFA = 'urn:portcullis:acr:mfa';
const ONE = 'urn:portcullis:acr:1fa';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

async function newAccount(slug: string, email: string): Promise<string> {
  return (await server.admin.ok('POST', `/apps/${slug}/accounts`, { email, password: PASSWORD, email_verified: true })).id;
}

/** Authorize and type the password: the page after the password (or the RP's callback). */
async function password(rp: Rp, browser: Browser, email: string, params: Record<string, string> = {}) {
  const flow = await rp.begin(params);
  const start = await open(browser, flow);
  const page = await browser.submit(start, { identifier: email, password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
  return { flow, page };
}

const typeCode = (browser: Browser, page: Page, code: string) => browser.submit(page, { code }, { action: '/mfa/code', stopAt: REDIRECT_URI });
const confirmEnrolment = (browser: Browser, page: Page, code: string) => browser.submit(page, { code }, { action: '/mfa/totp', stopAt: REDIRECT_URI });
const pressContinue = (browser: Browser, page: Page) => browser.submit(page, {}, { action: '/mfa/continue', stopAt: REDIRECT_URI });

/** Enrols TOTP during a sign-in that asks for it; returns the authenticator, the recovery codes and the tokens. */
async function enrol(rp: Rp, browser: Browser, email: string) {
  const { flow, page } = await password(rp, browser, email);
  expect(page.html).toContain('Set up an authenticator app');
  expect(page.html).toMatch(/<img class="qr" src="data:image\/svg\+xml;base64,/);
  const app = new Authenticator(secretOn(page));
  const codesPage = await confirmEnrolment(browser, page, await app.code());
  expect(codesPage.html).toContain('Save your recovery codes');
  const codes = recoveryCodesOn(codesPage);
  expect(codes).toHaveLength(10);
  const done = await pressContinue(browser, codesPage);
  expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
  return { app, codes, tokens: await rp.finish(flow, done.url) };
}

describe('TOTP with mfa: required', () => {
  let rp: Rp;
  let accountId: string;
  let app: Authenticator;
  let codes: string[];

  beforeAll(async () => {
    rp = await setUpRp(server, 'vault');
    await server.admin.ok('PATCH', '/apps/vault', { settings: { mfa: 'required' } });
    accountId = await newAccount('vault', 'ada@example.com');
  });

  it('advertises both acr values in discovery', async () => {
    const metadata = await (await fetch(`${server.url}/apps/vault/.well-known/openid-configuration`)).json() as { acr_values_supported?: string[] };
    expect(metadata.acr_values_supported).toEqual([ONE, MFA]);
  });

  it('makes a person without a factor enrol during sign-in; the ID token says two factors', async () => {
    const enrolled = await enrol(rp, new Browser(server.url), 'ada@example.com');
    ({ app, codes } = enrolled);
    const claims = enrolled.tokens.claims()!;
    expect(claims.sub).toBe(accountId);
    expect(claims.acr).toBe(MFA);
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    const factors = await server.admin.ok('GET', `/apps/vault/accounts/${accountId}/factors`);
    expect(factors.map((f: any) => f.type).sort()).toEqual(['recovery_codes', 'totp']);
    expect(JSON.stringify(factors)).not.toMatch(/secret|hash|Ciphertext/i);
    const audit = (await server.admin.ok('GET', '/apps/vault/audit?limit=200')).items;
    expect(audit.filter((e: any) => e.type === 'mfa.enrolled' && e.account_id === accountId)).toHaveLength(2);
  });

  it('asks for the code at the next sign-in, refuses a replayed code and accepts a fresh one', async () => {
    const browser = new Browser(server.url);
    const { flow, page } = await password(rp, browser, 'ada@example.com');
    expect(page.html).toContain('Enter the 6-digit code from your authenticator app');
    const replayed = await typeCode(browser, page, app.replay());
    expect(replayed.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(replayed.html).toContain('That code is not right');
    const done = await typeCode(browser, replayed, await app.code());
    const claims = (await rp.finish(flow, done.url)).claims()!;
    expect(claims).toMatchObject({ sub: accountId, acr: MFA, amr: ['pwd', 'otp', 'mfa'] });
  });

  it('takes a recovery code once, says how many remain and emails the person', async () => {
    const browser = new Browser(server.url);
    const { flow, page } = await password(rp, browser, 'ada@example.com');
    const used = await typeCode(browser, page, codes[0].toUpperCase());
    expect(used.html).toMatch(/You have <strong>9<\/strong> recovery codes left/);
    const done = await pressContinue(browser, used);
    expect((await rp.finish(flow, done.url)).claims()).toMatchObject({ acr: MFA, amr: ['pwd', 'mfa'] });
    const mail = await lastMessage(server, 'vault', 'ada@example.com');
    expect(mail.text).toContain('9 recovery codes are left');

    const otherBrowser = new Browser(server.url);
    const again = await password(rp, otherBrowser, 'ada@example.com');
    const refused = await typeCode(otherBrowser, again.page, codes[0]);
    expect(refused.html).toContain('That code is not right');
  });

  it('makes a new set of recovery codes that replaces the old one', async () => {
    const browser = new Browser(server.url);
    const { flow, page } = await password(rp, browser, 'ada@example.com');
    const used = await typeCode(browser, page, codes[1]);
    const fresh = await browser.submit(used, {}, { action: '/mfa/recovery-codes' });
    const newCodes = recoveryCodesOn(fresh);
    expect(newCodes).toHaveLength(10);
    expect(newCodes).not.toContain(codes[2]);
    const done = await pressContinue(browser, fresh);
    expect((await rp.finish(flow, done.url)).claims()!.acr).toBe(MFA);

    const oldBrowser = new Browser(server.url);
    const old = await password(rp, oldBrowser, 'ada@example.com');
    const refused = await typeCode(oldBrowser, old.page, codes[2]);
    expect(refused.html).toContain('That code is not right');
    const second = new Browser(server.url);
    const next = await password(rp, second, 'ada@example.com');
    const ok = await typeCode(second, next.page, newCodes[0]);
    expect(ok.html).toMatch(/You have <strong>9<\/strong> recovery codes left/);
    codes = newCodes.slice(1);
  });

  it('locks the code field after 5 wrong codes: the 6th is refused even when right, with an audit event', async () => {
    const otherId = await newAccount('vault', 'locked@example.com');
    const { app: other } = await enrol(rp, new Browser(server.url), 'locked@example.com');
    const browser = new Browser(server.url);
    let { page } = await password(rp, browser, 'locked@example.com');
    for (let i = 0; i < 5; i += 1) page = await typeCode(browser, page, '000000');
    expect(page.html).toContain('Too many wrong codes');
    const sixth = await typeCode(browser, page, await other.code());
    expect(sixth.status).toBe(429);
    expect(sixth.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(sixth.html).toContain('Too many wrong codes');
    const audit = (await server.admin.ok('GET', '/apps/vault/audit?limit=200')).items;
    expect(audit.filter((e: any) => e.type === 'mfa.locked' && e.account_id === otherId)).toHaveLength(1);
  });

  it('Admin API: lists factors, removes one, resets all; a reset account enrols again', async () => {
    const id = await newAccount('vault', 'lost@example.com');
    await enrol(rp, new Browser(server.url), 'lost@example.com');
    const factors = await server.admin.ok('GET', `/apps/vault/accounts/${id}/factors`);
    expect(factors).toHaveLength(2);
    for (const f of factors) expect(Object.keys(f).sort()).toEqual(expect.arrayContaining(['id', 'type', 'name', 'created_at', 'last_used_at']));
    expect((await server.admin.call('DELETE', `/apps/vault/accounts/${id}/factors/fac_nope`)).status).toBe(404);
    expect((await server.admin.call('DELETE', `/apps/vault/accounts/${id}/factors`)).status).toBe(204);
    expect(await server.admin.ok('GET', `/apps/vault/accounts/${id}/factors`)).toEqual([]);
    const audit = (await server.admin.ok('GET', '/apps/vault/audit?limit=200')).items;
    expect(audit.some((e: any) => e.type === 'mfa.removed' && e.account_id === id)).toBe(true);
    const { page } = await password(rp, new Browser(server.url), 'lost@example.com');
    expect(page.html).toContain('Set up an authenticator app');
  });

  it('removing the last factor also removes the recovery codes', async () => {
    const id = await newAccount('vault', 'one@example.com');
    await enrol(rp, new Browser(server.url), 'one@example.com');
    const totp = (await server.admin.ok('GET', `/apps/vault/accounts/${id}/factors`)).find((f: any) => f.type === 'totp');
    expect((await server.admin.call('DELETE', `/apps/vault/accounts/${id}/factors/${totp.id}`)).status).toBe(204);
    expect(await server.admin.ok('GET', `/apps/vault/accounts/${id}/factors`)).toEqual([]);
  });

  it('refuses a code posted to an attempt that is not waiting for one', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    const start = await open(browser, flow);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(start.html)![1];
    const res = await browser.request(`${start.url}/mfa/code`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, code: '123456' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(new URL(start.url).pathname);
  });
});

describe('policy', () => {
  it('off (the default): no second factor is asked, the ID token says one factor', async () => {
    const rp = await setUpRp(server, 'plain');
    await newAccount('plain', 'bo@example.com');
    const { flow, page } = await password(rp, new Browser(server.url), 'bo@example.com');
    expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(flow, page.url)).claims()).toMatchObject({ acr: ONE, amr: ['pwd'] });
  });

  it('optional: asks only those who enrolled; step-up with acr_values enrols or asks, without a new password', async () => {
    const rp = await setUpRp(server, 'opt');
    await server.admin.ok('PATCH', '/apps/opt', { settings: { mfa: 'optional' } });
    await newAccount('opt', 'cy@example.com');
    const browser = new Browser(server.url);
    const first = await password(rp, browser, 'cy@example.com');
    expect(first.page.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(first.flow, first.page.url)).claims()).toMatchObject({ acr: ONE, amr: ['pwd'] });

    // Step-up in the same browser: the session's account enrols (no password typed), and gets two factors.
    const stepUp = await rp.begin({ acr_values: MFA });
    const enrolPage = await open(browser, stepUp);
    expect(enrolPage.html).toContain('Set up an authenticator app');
    expect(enrolPage.html).not.toContain('name="password"');
    const app = new Authenticator(secretOn(enrolPage));
    const codesPage = await confirmEnrolment(browser, enrolPage, await app.code());
    const done = await pressContinue(browser, codesPage);
    const stepped = (await rp.finish(stepUp, done.url)).claims()!;
    expect(stepped).toMatchObject({ acr: MFA, amr: ['pwd', 'otp', 'mfa'] });

    // Enrolled now: a new sign-in in another browser is asked for the code.
    const other = new Browser(server.url);
    const again = await password(rp, other, 'cy@example.com');
    expect(again.page.html).toContain('Enter the 6-digit code');
    const finished = await typeCode(other, again.page, await app.code());
    expect((await rp.finish(again.flow, finished.url)).claims()!.acr).toBe(MFA);

    // The session has two factors now: asking again for mfa needs no page.
    const satisfied = await open(browser, await rp.begin({ acr_values: MFA }));
    expect(satisfied.url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('step-up with the claims parameter (an essential acr) asks only the second factor', async () => {
    const rp = await setUpRp(server, 'claimed');
    await server.admin.ok('PATCH', '/apps/claimed', { settings: { mfa: 'optional' } });
    await newAccount('claimed', 'fi@example.com');
    const browser = new Browser(server.url);
    const first = await password(rp, browser, 'fi@example.com');
    expect((await rp.finish(first.flow, first.page.url)).claims()).toMatchObject({ acr: ONE });
    const discovery = await (await fetch(`${server.url}/apps/claimed/.well-known/openid-configuration`)).json() as { claims_parameter_supported?: boolean };
    expect(discovery.claims_parameter_supported).toBe(true);

    // OIDC Core §5.5.1.1: {"id_token": {"acr": {"essential": true, "values": [mfa]}}} in place of acr_values.
    const stepUp = await rp.begin({ claims: JSON.stringify({ id_token: { acr: { essential: true, values: [MFA] } } }) });
    const enrolPage = await open(browser, stepUp);
    expect(enrolPage.html).toContain('Set up an authenticator app');
    expect(enrolPage.html).not.toContain('name="password"');
    const app = new Authenticator(secretOn(enrolPage));
    const done = await pressContinue(browser, await confirmEnrolment(browser, enrolPage, await app.code()));
    expect((await rp.finish(stepUp, done.url)).claims()).toMatchObject({ acr: MFA, amr: ['pwd', 'otp', 'mfa'] });
  });

  it('step-up with max_age=0 signs in again from the start, then asks the second factor', async () => {
    const rp = await setUpRp(server, 'maxage');
    await server.admin.ok('PATCH', '/apps/maxage', { settings: { mfa: 'optional' } });
    await newAccount('maxage', 'di@example.com');
    const browser = new Browser(server.url);
    const first = await password(rp, browser, 'di@example.com');
    await rp.finish(first.flow, first.page.url);
    const flow = await rp.begin({ acr_values: MFA, max_age: '0' });
    const page = await open(browser, flow);
    expect(page.html).toContain('name="password"');
    const next = await browser.submit(page, { identifier: 'di@example.com', password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
    expect(next.html).toContain('Set up an authenticator app');
  });

  it('a tenant that requires MFA applies only when that tenant is chosen', async () => {
    const rp = await setUpRp(server, 'orgs');
    const id = await newAccount('orgs', 'ed@example.com');
    await server.admin.ok('POST', '/apps/orgs/tenants', { slug: 'bank', name: 'Bank' });
    await server.admin.ok('POST', '/apps/orgs/tenants', { slug: 'cafe', name: 'Cafe' });
    const patched = await server.admin.ok('PATCH', '/apps/orgs/tenants/bank', { mfa: 'required' });
    expect(patched.mfa).toBe('required');
    expect((await server.admin.call('PATCH', '/apps/orgs/tenants/bank', { mfa: 'sometimes' })).status).toBe(400);
    await server.admin.ok('PUT', `/apps/orgs/tenants/bank/members/${id}`, { roles: ['teller'] });
    await server.admin.ok('PUT', `/apps/orgs/tenants/cafe/members/${id}`, { roles: ['barista'] });

    const cafe = new Browser(server.url);
    const a = await password(rp, cafe, 'ed@example.com');
    expect(choices(a.page).map((c) => c.label).sort()).toEqual(['Bank', 'Cafe']);
    const inCafe = await choose(cafe, a.page, 'Cafe');
    expect(inCafe.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(a.flow, inCafe.url)).claims()).toMatchObject({ tenant_slug: 'cafe', acr: ONE });

    // The one-factor session cannot switch into the bank: neither with tenant= nor through the chooser.
    const viaParam = await open(cafe, await rp.begin({ tenant: 'bank' }));
    expect(viaParam.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(viaParam.html).toContain('Set up an authenticator app');
    expect(viaParam.html).not.toContain('name="password"');
    const chooser = await open(cafe, await rp.begin({ prompt: 'select_account' }));
    const viaChooser = await choose(cafe, chooser, 'Bank');
    expect(viaChooser.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(viaChooser.html).toContain('Set up an authenticator app');

    const bank = new Browser(server.url);
    const b = await password(rp, bank, 'ed@example.com');
    const enrolPage = await choose(bank, b.page, 'Bank');
    expect(enrolPage.html).toContain('Set up an authenticator app');
    const app = new Authenticator(secretOn(enrolPage));
    const codesPage = await confirmEnrolment(bank, enrolPage, await app.code());
    const done = await pressContinue(bank, codesPage);
    expect((await rp.finish(b.flow, done.url)).claims()).toMatchObject({ tenant_slug: 'bank', acr: MFA, amr: ['pwd', 'otp', 'mfa'] });
  });

  it('validates the settings', async () => {
    await setUpRp(server, 'bad');
    for (const settings of [{ mfa: 'always' }, { mfa_methods: ['sms'] }, { mfa_methods: ['totp', 'totp'] }, { passkey_sign_in: 'yes' }]) {
      expect((await server.admin.call('PATCH', '/apps/bad', { settings })).status).toBe(400);
    }
    const app = await server.admin.ok('PATCH', '/apps/bad', { settings: { mfa: 'optional', mfa_methods: ['totp', 'email_code'] } });
    expect(app.settings).toMatchObject({ mfa: 'optional', mfa_methods: ['totp', 'email_code'], passkey_sign_in: false });
  });
});

describe('email code as the second factor', () => {
  it('after a password, an emailed code gives two factors; it never works as a first factor', async () => {
    const rp = await setUpRp(server, 'mailmfa');
    await server.admin.ok('PATCH', '/apps/mailmfa', { settings: { mfa: 'required', mfa_methods: ['email_code'] } });
    const id = await newAccount('mailmfa', 'fay@example.com');
    const browser = new Browser(server.url);
    const { flow, page } = await password(rp, browser, 'fay@example.com');
    expect(page.html).toContain('Email a code to f***@example.com');
    expect(page.html).not.toContain('Set up an authenticator app');
    const sent = await browser.submit(page, {}, { action: '/mfa/email/send' });
    expect(sent.html).toContain('We emailed you a 6-digit code');
    const code = /\b(\d{6})\b/.exec((await lastMessage(server, 'mailmfa', 'fay@example.com')).text)![1];
    // The second-factor code is not a sign-in code: the first-factor code page refuses it.
    const asFirst = await browser.submit(sent, { code }, { action: '/mfa/email', formaction: `${new URL(sent.url).pathname}/code` });
    expect(asFirst.url.startsWith(REDIRECT_URI)).toBe(false);
    const wrong = await browser.submit(sent, { code: code === '000000' ? '111111' : '000000' }, { action: '/mfa/email', stopAt: REDIRECT_URI });
    expect(wrong.html).toContain('That code is not right');
    const done = await browser.submit(wrong, { code }, { action: '/mfa/email', stopAt: REDIRECT_URI });
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(flow, done.url)).claims()).toMatchObject({ sub: id, acr: MFA, amr: ['pwd', 'otp', 'email', 'mfa'] });
  });

  it('is not offered when the first factor was that same email', async () => {
    const rp = await setUpRp(server, 'mailonly');
    await server.admin.ok('PATCH', '/apps/mailonly', { settings: { login_methods: ['email_code'], mfa: 'required', mfa_methods: ['totp', 'email_code'] } });
    await newAccount('mailonly', 'gus@example.com');
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    const start = await open(browser, flow);
    const codePage = await browser.submit(start, { identifier: 'gus@example.com' }, { formaction: `${new URL(start.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
    const code = /\b(\d{6})\b/.exec((await lastMessage(server, 'mailonly', 'gus@example.com')).text)![1];
    const next = await browser.submit(codePage, { code }, { action: '/code', stopAt: REDIRECT_URI });
    expect(next.html).toContain('Set up an authenticator app');
    expect(next.html).not.toContain('Email a code');
  });
});

describe('remember this device', () => {
  it('skips the second factor in the same browser for that account until a password reset', async () => {
    const rp = await setUpRp(server, 'remember');
    await server.admin.ok('PATCH', '/apps/remember', { settings: { mfa: 'required', mfa_remember_days: 30 } });
    const id = await newAccount('remember', 'hal@example.com');
    await newAccount('remember', 'ivy@example.com');
    const browser = new Browser(server.url);
    const { app } = await enrol(rp, browser, 'hal@example.com');
    const login = { prompt: 'login' };

    // Not ticked: asked again.
    const first = await password(rp, browser, 'hal@example.com', login);
    expect(first.page.html).toContain('Remember this device for 30 days');
    const ticked = await browser.submit(first.page, { code: await app.code(), remember: '1' }, { action: '/mfa/code', stopAt: REDIRECT_URI });
    // The browser holds the account's cookie for the app's path only.
    expect(browser.cookieHeader(new URL(`${server.url}/apps/remember/interaction/x`))).toMatch(/pc_mfa_[\w-]{16}=\d+\.[\w-]+/);
    expect(browser.cookieHeader(new URL(`${server.url}/apps/other/interaction/x`))).not.toMatch(/pc_mfa_/);
    await rp.finish(first.flow, ticked.url);

    // Remembered: the password alone; the ID token says one factor (nothing more was proved now).
    const skipped = await password(rp, browser, 'hal@example.com', login);
    expect(skipped.page.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(skipped.flow, skipped.page.url)).claims()).toMatchObject({ sub: id, acr: ONE, amr: ['pwd'] });

    // A relying party asking for two factors still gets them.
    const stepUp = await open(browser, await rp.begin({ acr_values: MFA }));
    expect(stepUp.html).toContain('Enter the 6-digit code');

    // Another browser, or another account in this browser, is not remembered.
    expect((await password(rp, new Browser(server.url), 'hal@example.com', login)).page.html).toContain('Enter the 6-digit code');
    expect((await password(rp, browser, 'ivy@example.com', login)).page.html).toContain('Set up an authenticator app');

    // A password reset (every sign-in ended) forgets the device.
    await server.portcullis.services.accounts.endAllSignIns((await server.portcullis.services.apps.require('remember')), id);
    expect((await password(rp, browser, 'hal@example.com', login)).page.html).toContain('Enter the 6-digit code');
  });

  it('is not offered when mfa_remember_days is 0 (the default)', async () => {
    const rp = await setUpRp(server, 'noremember');
    await server.admin.ok('PATCH', '/apps/noremember', { settings: { mfa: 'required' } });
    await newAccount('noremember', 'jo@example.com');
    const browser = new Browser(server.url);
    await enrol(rp, browser, 'jo@example.com');
    const { page } = await password(rp, browser, 'jo@example.com', { prompt: 'login' });
    expect(page.html).toContain('Enter the 6-digit code');
    expect(page.html).not.toContain('Remember this device');
  });
});
