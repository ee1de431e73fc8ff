import { createHash } from 'node:crypto';
import { Browser, type Page } from '../support/browser.js';
import { oidc, open, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

const SLUG = 'vault';
const PASSWORD = 'correct horse battery';
const LANDING = 'https://rp.example.test/login';

let server: TestServer;
let rp: Rp;
let appId: string;

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, SLUG, { initiate_login_uri: LANDING });
  appId = (await server.stores.apps.findBySlug(SLUG))!.id;
});
afterAll(() => server.close());

async function createAccount(email: string, extra: Record<string, unknown> = {}): Promise<string> {
  return (await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email, password: PASSWORD, name: 'Vault User', email_verified: true, ...extra })).id;
}

async function messagesTo(to: string): Promise<any[]> {
  return (await server.admin.ok('GET', `/apps/${SLUG}/outbox`)).filter((m: any) => m.to === to);
}

const resetMessages = async (to: string) => (await messagesTo(to)).filter((m: any) => /reset/i.test(m.subject));
const seen = new Map<string, number>();

/** The newest reset link sent to `to`. Links are sent in the background (no enumeration), so this waits briefly. */
async function resetLinkFor(to: string): Promise<string> {
  const deadline = Date.now() + 3000;
  let messages = await resetMessages(to);
  while (messages.length <= (seen.get(to) ?? 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    messages = await resetMessages(to);
  }
  seen.set(to, messages.length);
  const message = messages.at(-1);
  const link = /https?:\/\/\S+\/reset\/[A-Za-z0-9_-]{43}/.exec(message?.text ?? '')?.[0];
  if (!link) throw new Error(`no new reset link for ${to}`);
  return link;
}

const storeKey = (link: string) => `app:${appId}:reset:${createHash('sha256').update(link.split('/').at(-1)!).digest('base64url')}`;

/** Opens the sign-in page, follows "Forgot password?" and posts the email; returns the raw answer and the page after it. */
async function forgot(browser: Browser, email: string): Promise<{ status: number; location: string; page: Page }> {
  const start = await open(browser, await rp.begin());
  const href = /href="([^"]*\/forgot)"/.exec(start.html)![1];
  const form = await browser.follow(href);
  expect(form.html).toContain('name="identifier"');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.html)![1];
  const res = await browser.request(`${href}`, {
    method: 'POST', body: new URLSearchParams({ _csrf: csrf, identifier: email }), headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  await res.arrayBuffer();
  const location = res.headers.get('location')!;
  return { status: res.status, location, page: await browser.follow(location) };
}

function setNewPassword(browser: Browser, page: Page, password: string, confirm = password): Promise<Page> {
  return browser.submit(page, { new_password: password, new_password_confirm: confirm }, { action: '/reset/' });
}

async function promptNone(browser: Browser): Promise<URL> {
  const page = await open(browser, await rp.begin({ prompt: 'none' }));
  expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
  return new URL(page.url);
}

describe('password reset by emailed link', () => {
  it('resets the password, ends every session and refresh token, notifies, and does not sign in', async () => {
    const email = 'ada@vault.test';
    const accountId = await createAccount(email);

    // Browser A is signed in and holds tokens; its session answers prompt=none.
    const browserA = new Browser(server.url);
    const { tokens } = await signIn(rp, browserA, email, PASSWORD);
    expect(tokens.refresh_token).toBeDefined();
    expect((await promptNone(browserA)).searchParams.get('code')).toBeTruthy();

    // Browser B (another device) asks for a link and opens it.
    const browserB = new Browser(server.url);
    const { status, page: sent } = await forgot(browserB, email);
    expect(status).toBe(303);
    expect(sent.html).toContain('Check your email');
    const link = await resetLinkFor(email);
    expect(link.startsWith(`${server.config.publicUrl.origin}/apps/${SLUG}/reset/`)).toBe(true);
    const form = await browserB.follow(link);
    expect(form.status).toBe(200);
    expect(form.html).toContain('name="new_password"');
    expect(form.html).toContain('name="new_password_confirm"');

    const done = await setNewPassword(browserB, form, 'a brand new passphrase');
    expect(done.status).toBe(200);
    expect(done.url).toContain(`/apps/${SLUG}/reset/done`);
    expect(done.html).toContain('Password changed');
    expect(done.html).toContain(`href="${LANDING}"`);

    // No automatic sign-in: browser B has no session.
    expect((await promptNone(browserB)).searchParams.get('error')).toBe('login_required');
    // Browser A's session ended, and the tokens issued to it no longer work.
    expect((await promptNone(browserA)).searchParams.get('error')).toBe('login_required');
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, accountId)).rejects.toThrow();

    // The old password is refused, the new one signs in.
    const browserC = new Browser(server.url);
    const refused = await browserC.submit(await open(browserC, await rp.begin()), { identifier: email, password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
    expect(refused.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(refused.html).toContain('Invalid email or password');
    const again = await signIn(rp, new Browser(server.url), email, 'a brand new passphrase');
    expect(again.tokens.claims()!.sub).toBe(accountId);

    // The address is told, and the reset is audited.
    const notice = (await messagesTo(email)).find((m: any) => /changed/i.test(m.subject));
    expect(notice.text).toContain('was just changed');
    const audit = (await server.admin.ok('GET', `/apps/${SLUG}/audit`)).items;
    expect(audit.find((e: any) => e.type === 'password.reset' && e.account_id === accountId)).toMatchObject({ detail: { sessions_ended: true } });
  });

  it('also ends refresh tokens that outlive the session (offline_access)', async () => {
    const email = 'offline@vault.test';
    await createAccount(email);
    const { tokens } = await signIn(rp, new Browser(server.url), email, PASSWORD, { params: { scope: 'openid email offline_access', prompt: 'consent' } });
    expect(tokens.scope).toContain('offline_access');
    // An offline_access refresh token does not end with the session: the reset must still stop it.
    const rotated = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    const browser = new Browser(server.url);
    await forgot(browser, email);
    await setNewPassword(browser, await browser.follow(await resetLinkFor(email)), 'offline new passphrase');
    await expect(oidc.refreshTokenGrant(rp.config, rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(rp.config, rotated.access_token, rotated.claims()!.sub)).rejects.toThrow();
  });

  it('answers byte-identical pages for a known and an unknown email, and sends only to the known one', async () => {
    const known = 'grace@vault.test';
    await createAccount(known);
    const strip = (p: Page) => p.html.replace(/name="_csrf" value="[^"]*"/g, '').replace(/\/interaction\/[^/"]+/g, '/interaction/X');
    const a = await forgot(new Browser(server.url), known);
    const b = await forgot(new Browser(server.url), 'nobody@vault.test');
    expect(b.status).toBe(a.status);
    expect(b.location.replace(/\/interaction\/[^/]+/, '')).toBe(a.location.replace(/\/interaction\/[^/]+/, ''));
    expect(b.page.status).toBe(a.page.status);
    expect(strip(b.page)).toBe(strip(a.page));
    await resetLinkFor(known);
    expect(await messagesTo(known)).toHaveLength(1);
    expect(await messagesTo('nobody@vault.test')).toHaveLength(0);
  });

  it('works once: a used link shows the expired page', async () => {
    const email = 'once@vault.test';
    await createAccount(email);
    const browser = new Browser(server.url);
    await forgot(browser, email);
    const link = await resetLinkFor(email);
    const form = await browser.follow(link);
    await setNewPassword(browser, form, 'first new passphrase');
    const reopened = await browser.follow(link);
    expect(reopened.status).toBe(400);
    expect(reopened.html).toContain('This link has expired or was already used');
    // Posting the old form again is refused the same way, and the password stays the first one.
    const replay = await setNewPassword(browser, form, 'second new passphrase');
    expect(replay.status).toBe(400);
    expect(replay.html).toContain('expired or was already used');
    await signIn(rp, new Browser(server.url), email, 'first new passphrase');
  });

  it('expires: a link past its time to live shows the expired page', async () => {
    const email = 'late@vault.test';
    await createAccount(email);
    const browser = new Browser(server.url);
    await forgot(browser, email);
    const link = await resetLinkFor(email);
    const key = storeKey(link);
    const stored = await server.stores.ephemeral.get(key);
    expect(stored).toMatchObject({ accountId: expect.any(String) });
    expect(await server.stores.ephemeral.ttl(key)).toBeGreaterThan(29 * 60);
    await server.stores.ephemeral.set(key, stored, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const page = await browser.follow(link);
    expect(page.status).toBe(400);
    expect(page.html).toContain('expired or was already used');
  });

  it('voids older links once the password was reset with a newer one', async () => {
    const email = 'twice@vault.test';
    await createAccount(email);
    const browser = new Browser(server.url);
    await forgot(browser, email);
    const first = await resetLinkFor(email);
    await forgot(browser, email);
    const second = await resetLinkFor(email);
    expect(second).not.toBe(first);
    await setNewPassword(browser, await browser.follow(second), 'newest passphrase');
    expect((await browser.follow(first)).status).toBe(400);
  });

  it('enforces the password rules without using the link up', async () => {
    const email = 'rules@vault.test';
    await createAccount(email);
    const browser = new Browser(server.url);
    await forgot(browser, email);
    const form = await browser.follow(await resetLinkFor(email));
    const short = await setNewPassword(browser, form, 'seven77');
    expect(short.status).toBe(400);
    expect(short.html).toContain('at least 8 characters');
    const breached = await setNewPassword(browser, form, 'qwertyuiop');
    expect(breached.status).toBe(400);
    expect(breached.html).toContain('too common');
    const mismatch = await setNewPassword(browser, form, 'long enough one', 'long enough two');
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toContain('do not match');
    const done = await setNewPassword(browser, form, 'long enough one');
    expect(done.html).toContain('Password changed');
  });

  it('refuses a reset form posted without its CSRF token', async () => {
    const email = 'csrf@vault.test';
    await createAccount(email);
    const browser = new Browser(server.url);
    await forgot(browser, email);
    const link = await resetLinkFor(email);
    const res = await browser.request(link, {
      method: 'POST', body: new URLSearchParams({ new_password: 'whatever passphrase', new_password_confirm: 'whatever passphrase' }), headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(403);
    expect((await browser.follow(link)).status).toBe(200);
  });

  it('sends nothing for a deactivated account', async () => {
    const email = 'gone@vault.test';
    const id = await createAccount(email);
    await server.admin.ok('PATCH', `/apps/${SLUG}/accounts/${id}`, { status: 'deactivated' });
    const { page } = await forgot(new Browser(server.url), email);
    expect(page.html).toContain('Check your email');
    expect(await messagesTo(email)).toHaveLength(0);
  });
});
