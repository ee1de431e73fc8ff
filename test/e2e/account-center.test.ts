/**
 * The account center end to end through its HTML forms (the fetch browser): it signs the person in through the
 * app's own OIDC flow, and each section changes what it says, what the Admin API shows, and what relying parties
 * receive (ID token, userinfo, refresh, prompt=none). Bad input gets a 4xx with a message on the page.
 */
import { Browser, decode, type Page } from '../support/browser.js';
import { oidc, open, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { codeIn, lastMessage, messagesTo } from '../support/outbox.js';
import { accessState, ENDED, LIVE } from '../support/access-checks.js';
import { Authenticator, secretOn } from '../support/totp.js';

const SLUG = 'center';
const PASSWORD = 'velvet-harbor-lantern-1893';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

let server: TestServer;
let rp: Rp;
let counter = 0;

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, SLUG, { grant_types: ['authorization_code', 'refresh_token'] });
  await server.admin.ok('POST', `/apps/${SLUG}/clients`, {
    name: 'Helpdesk', redirect_uris: ['https://helpdesk.example.test/cb'], first_party: true, initiate_login_uri: 'https://helpdesk.example.test/login',
    description: 'Tickets and requests',
  });
  await server.admin.ok('POST', `/apps/${SLUG}/clients`, {
    name: 'Hidden tool', redirect_uris: ['https://hidden.example.test/cb'], first_party: true, initiate_login_uri: 'https://hidden.example.test/login',
    show_in_launcher: false,
  });
});
afterAll(() => server.close());

const center = `/apps/${SLUG}/account`;

async function person(extra: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = `center${++counter}@center.test`;
  const { id } = await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email, password: PASSWORD, name: 'Grace', ...extra });
  return { id, email };
}

/** Opens the account center in a new browser and signs in through the app's sign-in page. */
async function openCenter(email: string, userAgent = FIREFOX): Promise<{ browser: Browser; page: Page }> {
  const browser = new Browser(server.url, { 'user-agent': userAgent });
  const login = await browser.follow(center);
  expect(login.html).toContain('name="password"');
  const page = await browser.submit(login, { identifier: email, password: PASSWORD }, { action: '/login' });
  expect(page.url).toBe(`${server.url}${center}`);
  expect(page.status).toBe(200);
  return { browser, page };
}

const text = (page: Page) => decode(page.html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ');

describe('account center', () => {
  it('signs in through the app as a first-party client created with the app, and again on first use when deleted', async () => {
    const centersOf = async (slug: string) => (await server.admin.ok('GET', `/apps/${slug}/clients`))
      .filter((c: any) => c.redirect_uris.includes(`${server.url}/apps/${slug}/account/callback`));
    // Created with the app, before anyone visits.
    await server.admin.ok('POST', '/apps', { slug: 'center-new', name: 'New' });
    expect(await centersOf('center-new')).toEqual([expect.objectContaining({ name: 'Account center', first_party: true, token_endpoint_auth_method: 'none' })]);

    const { email } = await person();
    const { page } = await openCenter(email);
    expect(text(page)).toContain('Your account');
    expect(text(page)).toContain(`Signed in as ${email}`);
    const [created] = await centersOf(SLUG);
    expect(await centersOf(SLUG)).toHaveLength(1);
    // An operator deleting it (or an app older than the center) gets a new one on the next visit, and only one.
    await server.admin.call('DELETE', `/apps/${SLUG}/clients/${created.client_id}`);
    await openCenter((await person()).email);
    await openCenter((await person()).email);
    const again = await centersOf(SLUG);
    expect(again).toHaveLength(1);
    expect(again[0].client_id).not.toBe(created.client_id);
  });

  it('changes the profile; the page, the ID token and userinfo follow', async () => {
    const { id, email } = await person();
    const { browser, page } = await openCenter(email);
    const saved = await browser.submit(page, { name: 'Grace Hopper', locale: 'fr' }, { action: '/account/profile' });
    expect(saved.status).toBe(200);
    expect(text(saved)).toContain('Votre profil a été enregistré.');
    expect(saved.html).toContain('<html lang="fr">');
    const { tokens } = await signIn(rp, browser, email, PASSWORD);
    expect(tokens.claims()).toMatchObject({ name: 'Grace Hopper', locale: 'fr' });
    expect(await oidc.fetchUserInfo(rp.config, tokens.access_token, id)).toMatchObject({ name: 'Grace Hopper', locale: 'fr' });
    const audit = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=account.updated&account_id=${id}`)).items;
    expect(audit[0].detail).toMatchObject({ by: 'account' });
  });

  it('changes the email only with the code sent to the new address, and tells the old one', async () => {
    const { id, email } = await person();
    const { browser, page } = await openCenter(email);
    const next = `moved${counter}@center.test`;
    const sent = await browser.submit(page, { email: next }, { action: '/account/email' });
    expect(text(sent)).toContain('We sent a code to the new address');
    const code = codeIn(await lastMessage(server, SLUG, next));
    const wrong = await browser.submit(sent, { code: code === '000000' ? '111111' : '000000' }, { action: '/account/email/verify' });
    expect(wrong.status).toBe(400);
    expect(text(wrong)).toContain('That code is not right');
    expect((await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}`)).email).toBe(email);
    const changed = await browser.submit(wrong, { code }, { action: '/account/email/verify' });
    expect(text(changed)).toContain('Your email address was changed.');
    expect(await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}`)).toMatchObject({ email: next, email_verified: true });
    expect((await messagesTo(server, SLUG, email)).some((m: any) => m.text.includes(`changed to ${next}`))).toBe(true);
    const { tokens } = await signIn(rp, new Browser(server.url), next, PASSWORD);
    expect(tokens.claims()).toMatchObject({ email: next, email_verified: true });
  });

  it('verifies a new phone number by SMS before saving it', async () => {
    const { id, email } = await person();
    const { browser, page } = await openCenter(email);
    const sent = await browser.submit(page, { phone_number: '+14155550199' }, { action: '/account/phone' });
    expect(text(sent)).toContain('We texted a code to the new number');
    const sms = await lastMessage(server, SLUG, '+14155550199');
    expect(sms.channel).toBe('sms');
    await browser.submit(sent, { code: codeIn(sms) }, { action: '/account/phone/verify' });
    expect(await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}`)).toMatchObject({ phone_number: '+14155550199', phone_number_verified: true });
  });

  it('refuses bad input on every form with a 4xx and a message on the page', async () => {
    const { email } = await person();
    const { browser, page } = await openCenter(email);
    const cases: Array<[string, Record<string, string>, string]> = [
      ['/account/profile', { name: '', locale: 'en' }, 'Enter a name of 1 to 100 characters'],
      ['/account/profile', { name: 'x'.repeat(101), locale: 'en' }, 'Enter a name of 1 to 100 characters'],
      ['/account/profile', { name: 'Ok', locale: 'klingon' }, 'choose a language from the list'],
      ['/account/email', { email: 'not-an-email' }, 'Enter a valid email address.'],
      ['/account/phone', { phone_number: '0612345678' }, 'international format'],
      ['/account/email/verify', { code: 'abc' }, 'Enter the 6-digit code.'],
      ['/account/email/verify', { code: '123456' }, 'This code has expired'],
      ['/account/password', { new_password: 'x' }, 'Fill in the new password twice.'],
      ['/account/password', { current_password: PASSWORD, new_password: 'a-long-new-passphrase', new_password_confirm: 'another-passphrase' }, 'The two passwords do not match.'],
      ['/account/password', { current_password: 'wrong', new_password: 'a-long-new-passphrase', new_password_confirm: 'a-long-new-passphrase' }, 'The current password is not right.'],
      ['/account/password', { current_password: PASSWORD, new_password: 'password', new_password_confirm: 'password' }, 'This password is too common'],
      ['/account/password', { current_password: PASSWORD, new_password: 'short', new_password_confirm: 'short' }, 'at least 8 characters'],
    ];
    for (const [action, fields, message] of cases) {
      // The code form shows only while a change waits for its code: sent through the profile form's fields then.
      const answer = action.endsWith('/verify')
        ? await browser.submit(page, fields, { action: '/account/profile', formaction: `/apps/${SLUG}${action}` })
        : await browser.submit(page, fields, { action });
      expect([action, fields, answer.status >= 400 && answer.status < 500, text(answer).includes(message) ? message : text(answer)]).toEqual([action, fields, true, message]);
    }
    // No CSRF token, or someone else's: 403, nothing changes.
    const forged = await browser.request(`${center}/profile`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Forged&locale=en' });
    expect(forged.status).toBe(403);
    const other = await openCenter((await person()).email);
    const stolen = /name="_csrf" value="([^"]+)"/.exec(other.page.html)![1];
    const crossed = await browser.request(`${center}/profile`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${stolen}&name=Forged&locale=en` });
    expect(crossed.status).toBe(403);
    for (const path of ['/sessions/..%2Fx/end', '/grants/nope/revoke', '/factors/nope/remove']) {
      const res = await browser.submit(page, {}, { formaction: `${center}${path}`, action: '/account/profile' });
      expect([path, res.status]).toEqual([path, 404]);
    }
  });

  it('lists two browsers, marks this device, and signs out only the other one', async () => {
    const { email } = await person();
    const { browser, page } = await openCenter(email, FIREFOX);
    const phone = new Browser(server.url, { 'user-agent': CHROME });
    const theirs = await signIn(rp, phone, email, PASSWORD);
    const listed = await browser.follow(center);
    const sessionsOf = (p: Page) => text({ ...p, html: p.html.slice(p.html.indexOf('id="sessions"'), p.html.indexOf('id="apps"')) });
    expect(sessionsOf(listed)).toContain('Firefox on Linux · this device');
    expect(sessionsOf(listed)).toContain('Chrome on Windows');
    const other = [...listed.html.matchAll(/action="[^"]*\/sessions\/([^/"]+)\/end"/g)].map((m) => m[1]);
    expect(other).toHaveLength(2);
    const chromeSession = (await server.admin.ok('GET', `/apps/${SLUG}/accounts/${theirs.tokens.claims()!.sub}/sessions`)).find((s: any) => s.browser === 'Chrome').id;
    const ended = await browser.submit(page, {}, { formaction: `${center}/sessions/${chromeSession}/end`, action: '/account/profile' });
    expect(text(ended)).toContain('The session was signed out.');
    expect(sessionsOf(ended)).not.toContain('Chrome on Windows');
    expect(await accessState(rp, phone, { access_token: theirs.tokens.access_token, refresh_token: theirs.tokens.refresh_token })).toEqual(ENDED);
    // The account center itself stays signed in.
    expect((await browser.follow(center)).url).toBe(`${server.url}${center}`);
  });

  it('signs out everywhere else and keeps this device', async () => {
    const { email } = await person();
    const { browser, page } = await openCenter(email);
    const elsewhere = new Browser(server.url);
    const theirs = await signIn(rp, elsewhere, email, PASSWORD);
    const done = await browser.submit(page, {}, { action: '/account/sessions/end-others' });
    expect(text(done)).toContain('You were signed out everywhere else.');
    expect(await accessState(rp, elsewhere, { access_token: theirs.tokens.access_token, refresh_token: theirs.tokens.refresh_token })).toEqual(ENDED);
    const mine = await signIn(rp, browser, email, PASSWORD);
    expect(await accessState(rp, browser, { access_token: mine.tokens.access_token, refresh_token: mine.tokens.refresh_token })).toEqual(LIVE);
  });

  it('lists the launcher and connected apps; revoking a connected app kills its refresh token', async () => {
    const { email } = await person();
    const { browser } = await openCenter(email);
    const portal = await signIn(rp, browser, email, PASSWORD);
    const page = await browser.follow(center);
    expect(page.html).toContain('href="https://helpdesk.example.test/login?iss=');
    expect(text(page)).toContain('Helpdesk Tickets and requests');
    expect(page.html).not.toContain('hidden.example.test');
    expect(text(page)).toContain('Portal');
    const grant = /action="[^"]*\/grants\/([^/"]+)\/revoke"/.exec(page.html)![1];
    const revoked = await browser.submit(page, {}, { formaction: `${center}/grants/${grant}/revoke`, action: '/account/profile' });
    expect(text(revoked)).toContain('The app no longer has access.');
    await expect(oidc.refreshTokenGrant(rp.config, portal.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const audited = await server.admin.ok('GET', `/apps/${SLUG}/audit?type=grant.revoked`);
    expect(audited.items[0]).toMatchObject({ type: 'grant.revoked', detail: { by: 'account', grant } });
  });

  it('shows the sign-in history with a failed and a successful attempt', async () => {
    const { email } = await person();
    const browser = new Browser(server.url, { 'user-agent': FIREFOX });
    const login = await browser.follow(center);
    const refused = await browser.submit(login, { identifier: email, password: 'not my password' }, { action: '/login' });
    const page = await browser.submit(refused, { identifier: email, password: PASSWORD }, { action: '/login' });
    const history = text(page).slice(text(page).indexOf('Sign-in history'));
    expect(history).toMatch(/password Signed in 127\.0\.0\.1 · Firefox on Linux.*password Wrong password 127\.0\.0\.1/);
  });

  it('shows a support PIN that support can verify, and regenerates it', async () => {
    const { id, email } = await person();
    const { browser, page } = await openCenter(email);
    const shown = await browser.submit(page, {}, { action: '/account/support-pin' });
    const pin = /id="support-pin-value">(\d{6})</.exec(shown.html)![1];
    expect(await server.admin.ok('POST', `/apps/${SLUG}/accounts/${id}/support-pin/verify`, { pin })).toEqual({ valid: true });
    // Shown once: the next page only says until when it is valid.
    const later = await browser.follow(center);
    expect(later.html).not.toContain(pin);
    expect(text(later)).toContain('You have a PIN valid until');
    const again = await browser.submit(later, {}, { action: '/account/support-pin' });
    const next = /id="support-pin-value">(\d{6})</.exec(again.html)![1];
    expect(await server.admin.ok('POST', `/apps/${SLUG}/accounts/${id}/support-pin/verify`, { pin: next })).toEqual({ valid: true });
  });

  it('changes the password with the current one; other sessions end, this one stays', async () => {
    const { id, email } = await person();
    const { browser, page } = await openCenter(email);
    const elsewhere = new Browser(server.url);
    const theirs = await signIn(rp, elsewhere, email, PASSWORD);
    const changed = await browser.submit(page, { current_password: PASSWORD, new_password: 'fresh-orchid-telescope-44', new_password_confirm: 'fresh-orchid-telescope-44' }, { action: '/account/password' });
    expect(text(changed)).toContain('Your password was changed.');
    expect(await accessState(rp, elsewhere, { access_token: theirs.tokens.access_token, refresh_token: theirs.tokens.refresh_token })).toEqual(ENDED);
    expect((await browser.follow(center)).url).toBe(`${server.url}${center}`);
    await signIn(rp, new Browser(server.url), email, 'fresh-orchid-telescope-44');
    expect((await messagesTo(server, SLUG, email)).some((m: any) => /password/i.test(m.subject ?? ''))).toBe(true);
    const audit = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=account.password_changed&account_id=${id}`)).items;
    expect(audit[0].detail).toMatchObject({ by: 'account' });
  });

  it('sets a first password for an account that has none, right after signing in', async () => {
    const email = `nopass${++counter}@center.test`;
    await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { login_methods: ['password', 'email_code'] } });
    const { id } = await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email });
    const browser = new Browser(server.url);
    const login = await browser.follow(center);
    const send = /formaction="([^"]*\/code\/send)"/.exec(login.html);
    expect(send).not.toBeNull();
    const codePage = await browser.submit(login, { identifier: email, channel: 'email' }, { action: '/login', formaction: send![1] });
    const signedIn = await browser.submit(codePage, { code: codeIn(await lastMessage(server, SLUG, email)) }, { action: '/code' });
    expect(signedIn.url).toBe(`${server.url}${center}`);
    expect(signedIn.html).not.toContain('name="current_password"');
    const set = await browser.submit(signedIn, { new_password: 'first-garden-compass-71', new_password_confirm: 'first-garden-compass-71' }, { action: '/account/password' });
    expect(text(set)).toContain('Your password was changed.');
    expect((await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}`)).has_password).toBe(true);
  });

  it('deletes the account after a confirmation step, only when the app allows it', async () => {
    const { id, email } = await person();
    const { browser, page } = await openCenter(email);
    expect(page.html).not.toContain(`${center}/delete`);
    expect((await browser.follow(`${center}/delete`)).status).toBe(404);
    await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { self_service_deletion: true } });
    const offered = await browser.follow(center);
    const confirm = await browser.follow(`${center}/delete`);
    expect(offered.html).toContain(`${center}/delete`);
    const unconfirmed = await browser.submit(confirm, {}, { action: '/account/delete' });
    expect(unconfirmed.status).toBe(400);
    expect(text(unconfirmed)).toContain('Tick the box');
    const deleted = await browser.submit(confirm, { confirm: 'yes' }, { action: '/account/delete' });
    expect(deleted.url).toBe(`${server.url}${center}/deleted`);
    expect(text(deleted)).toContain('Your account was deleted');
    expect((await server.admin.call('GET', `/apps/${SLUG}/accounts/${id}`)).status).toBe(404);
    const tombstone = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=account.deleted&account_id=${id}`)).items[0];
    expect(tombstone.detail).toMatchObject({ by: 'account' });
    await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { self_service_deletion: false } });
  });

  it('sets up an authenticator app on the page: a wrong code is refused, the right one adds it with recovery codes', async () => {
    await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { mfa: 'optional' } });
    try {
      const { id, email } = await person();
      const { browser, page } = await openCenter(email);
      expect(text(page)).toContain('Add an authenticator app');
      const authenticator = new Authenticator(secretOn(page));
      const action = `${center}/security/totp`;
      const right = await authenticator.code();
      const wrong = await browser.submit(page, { code: right === '000000' ? '111111' : '000000' }, { action });
      expect(wrong.status).toBe(400);
      expect(text(wrong)).toContain('That code is not right.');
      expect((await browser.submit(page, { code: 'abc' }, { action })).status).toBe(400);
      const added = await browser.submit(page, { code: right }, { action });
      expect(added.status).toBe(200);
      expect(text(added)).toContain('The authenticator app was added.');
      expect(added.html.match(/<li><code>/g)).toHaveLength(10);
      expect(added.html).not.toContain('id="totp-secret"');
      const factors = await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}/factors`);
      expect(factors.map((f: any) => f.type).sort()).toEqual(['recovery_codes', 'totp']);

      // New recovery codes replace the old set: an old one no longer signs in, a new one does.
      const codesOf = (p: Page) => [...p.html.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]);
      const old = codesOf(added);
      // Offered once the codes just made are off the page.
      const renewed = await browser.submit(await browser.follow(center), {}, { action: `${center}/security/recovery-codes` });
      expect(text(renewed)).toContain('New recovery codes were made');
      const fresh = codesOf(renewed);
      expect(fresh).toHaveLength(10);
      expect(fresh.filter((c) => old.includes(c))).toEqual([]);
      const elsewhere = new Browser(server.url);
      const prompt = await elsewhere.submit(await open(elsewhere, await rp.begin()), { identifier: email, password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
      expect(prompt.html).toContain('name="code"');
      const refused = await elsewhere.submit(prompt, { code: old[0] }, { action: '/mfa/code', stopAt: REDIRECT_URI });
      expect(refused.html).toContain('name="code"');
      const accepted = await elsewhere.submit(refused, { code: fresh[0] }, { action: '/mfa/code', stopAt: REDIRECT_URI });
      expect(accepted.html).not.toContain('name="code"');
    } finally {
      await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { mfa: 'off' } });
    }
  });

  it('offers a passkey form where passkeys have a use, and refuses a bad or forged registration with a message', async () => {
    await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { passkey_sign_in: true } });
    try {
      const { id, email } = await person();
      const { browser, page } = await openCenter(email);
      const action = `${center}/security/passkey`;
      expect(page.html).toMatch(new RegExp(`<form method="post" action="${action}" data-passkey="register"`));
      for (const response of ['not json', '{"id":"made-up","response":{}}']) {
        const refused = await browser.submit(page, { response, name: 'Mine' }, { action });
        expect(refused.status).toBe(400);
        expect(text(refused)).toContain('The passkey could not be added.');
      }
      const forged = await browser.submit(page, { response: '{}', _csrf: 'forged' }, { action });
      expect(forged.status).toBe(403);
      expect(await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}/factors`)).toEqual([]);
    } finally {
      await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { passkey_sign_in: false } });
    }
  });

  it('lists the second factors with remove, and enrols one through the sign-in\'s own enrolment', async () => {
    await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { mfa: 'optional' } });
    const { id, email } = await person();
    const { browser, page } = await openCenter(email);
    expect(text(page)).toContain('No second factor is set up.');
    // Enrolment is a step-up sign-in (prompt=login, acr mfa): the password first, then the authenticator app.
    const again = await browser.submit(page, {}, { action: '/account/security/enrol' });
    expect(again.html).toContain('name="password"');
    const setup = await browser.submit(again, { identifier: email, password: PASSWORD }, { action: '/login' });
    expect(setup.html).toContain('Set up an authenticator app');
    const authenticator = new Authenticator(secretOn(setup));
    const codes = await browser.submit(setup, { code: await authenticator.code() }, { action: '/mfa/totp' });
    const back = await browser.submit(codes, {}, { action: '/mfa/continue' });
    expect(back.url).toBe(`${server.url}${center}`);
    expect(text(back)).toContain('Authenticator app');
    expect(back.html).not.toContain(`${center}/security/enrol`);
    // A wrong code after the right password is in the sign-in history.
    const elsewhere = new Browser(server.url);
    const prompt = await elsewhere.submit(await open(elsewhere, await rp.begin()), { identifier: email, password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
    expect(prompt.html).toContain('name="code"');
    const wrongCode = (await authenticator.code()) === '000000' ? '111111' : '000000';
    await elsewhere.submit(prompt, { code: wrongCode }, { action: '/mfa/code', stopAt: REDIRECT_URI });
    const history = text(await browser.follow(center));
    expect(history).toContain('second factor Wrong second factor');
    const factor = /action="[^"]*\/factors\/([^/"]+)\/remove"/.exec(back.html)![1];
    const removed = await browser.submit(back, {}, { formaction: `${center}/factors/${factor}/remove`, action: '/account/profile' });
    expect(text(removed)).toContain('The factor was removed.');
    expect(await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}/factors`)).toEqual([]);
    const audit = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=mfa.removed&account_id=${id}`)).items;
    expect(audit[0].detail).toMatchObject({ by: 'account' });
    await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { mfa: 'off' } });
  });

  it('signs the center out when the account is deactivated, and the next visit needs a sign-in', async () => {
    const { id, email } = await person();
    const { browser } = await openCenter(email);
    await server.admin.ok('POST', `/apps/${SLUG}/accounts/${id}/deactivate`);
    const next = await browser.follow(center);
    expect(next.html).toContain('name="password"');
    expect(next.url).not.toBe(`${server.url}${center}`);
  });
});

describe('account center of an app with a default API resource', () => {
  it('still signs in: its own tokens are the app\'s userinfo tokens, not the default resource\'s', async () => {
    const slug = 'center-resource';
    await server.admin.ok('POST', '/apps', { slug, name: 'Resourceful' });
    await server.admin.ok('POST', `/apps/${slug}/resources`, { identifier: 'https://api.resourceful.test/', name: 'API', is_default: true });
    const email = 'resource@center.test';
    await server.admin.ok('POST', `/apps/${slug}/accounts`, { email, password: PASSWORD });
    const browser = new Browser(server.url);
    const login = await browser.follow(`/apps/${slug}/account`);
    const page = await browser.submit(login, { identifier: email, password: PASSWORD }, { action: '/login' });
    expect(page.url).toBe(`${server.url}/apps/${slug}/account`);
    expect(text(page)).toContain(`Signed in as ${email}`);
  });
});

describe('account center pages in every language', () => {
  it('speaks the browser\'s language before the person chose one', async () => {
    const { email } = await person();
    for (const [language, title] of [['de', 'Ihr Konto'], ['es', 'Su cuenta'], ['fr', 'Votre compte']]) {
      const { browser } = await openCenter(email);
      const page = await browser.follow(center, undefined, { headers: { 'accept-language': language } });
      expect(text(page)).toContain(title);
      expect(page.html).toContain(`<html lang="${language}">`);
    }
  });

  it('has the page outside a sign-in redirect to the app\'s sign-in page', async () => {
    const browser = new Browser(server.url);
    const res = await browser.request(center);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.pathname).toBe(`/apps/${SLUG}/auth`);
    expect(location.searchParams.get('scope')).toContain('account:write');
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
  });
});
