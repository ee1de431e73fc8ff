import { Browser, type Page } from '../support/browser.js';
import { open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import * as outbox from '../support/outbox.js';
import { startServer, type TestServer } from '../support/server.js';

const PASSWORD = 'a long enough passphrase';

let server: TestServer;
let club: Rp;
let guild: Rp;
let closed: Rp;

beforeAll(async () => {
  server = await startServer();
  club = await setUpRp(server, 'club');
  await server.admin.ok('PATCH', '/apps/club', { settings: { registration: 'open' } });
  guild = await setUpRp(server, 'guild');
  await server.admin.ok('PATCH', '/apps/guild', { settings: { registration: 'open', accounts_per_email: 'many' } });
  closed = await setUpRp(server, 'closed');
});
afterAll(() => server.close());

const messagesTo = (slug: string, to: string) => outbox.messagesTo(server, slug, to);
const lastMessage = (slug: string, to: string) => outbox.lastMessage(server, slug, to);

async function codeFor(slug: string, to: string): Promise<string> {
  return /\b(\d{6})\b/.exec((await lastMessage(slug, to)).text)![1];
}

async function accountsWith(slug: string, email: string): Promise<any[]> {
  return server.admin.ok('GET', `/apps/${slug}/accounts?email=${encodeURIComponent(email)}`);
}

/** Opens the sign-in page and follows "Create an account". */
async function registerPage(rp: Rp, browser: Browser): Promise<{ page: Page; flow: Awaited<ReturnType<Rp['begin']>> }> {
  const flow = await rp.begin();
  const start = await open(browser, flow);
  const href = /href="([^"]*\/register)"/.exec(start.html)?.[1];
  if (!href) throw new Error(`no registration link on ${start.url}`);
  return { page: await browser.follow(href), flow };
}

/** Posts the registration form by hand (to see the raw answer), then follows it. */
async function register(rp: Rp, browser: Browser, fields: Record<string, string>) {
  const { page, flow } = await registerPage(rp, browser);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)![1];
  const action = `${new URL(page.url).pathname}`;
  const res = await browser.request(action, {
    method: 'POST', body: new URLSearchParams({ _csrf: csrf, ...fields }), headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  await res.arrayBuffer();
  const location = res.headers.get('location')!;
  return { status: res.status, location, page: await browser.follow(location), flow };
}

const enter = (browser: Browser, page: Page, code: string) => browser.submit(page, { code }, { action: '/register/verify', stopAt: REDIRECT_URI });

describe('self-registration', () => {
  it('creates a verified account from the emailed code and signs the person in', async () => {
    const browser = new Browser(server.url);
    const { status, page, flow } = await register(club, browser, { name: 'Nina Newcomer', identifier: 'Nina@Club.test', password: PASSWORD });
    expect(status).toBe(303);
    expect(page.html).toContain('name="code"');
    expect(page.html).toContain('nina@club.test');
    const message = await lastMessage('club', 'nina@club.test');
    expect(message.text).toContain('verification code');
    const done = await enter(browser, page, await codeFor('club', 'nina@club.test'));
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await club.finish(flow, done.url);
    const [account] = await accountsWith('club', 'nina@club.test');
    expect(tokens.claims()).toMatchObject({ sub: account.id, email: 'nina@club.test', email_verified: true, name: 'Nina Newcomer' });
    expect(account).toMatchObject({ status: 'active', email_verified: true, has_password: true, login_count: 1 });
    const audit = (await server.admin.ok('GET', '/apps/club/audit')).items;
    expect(audit.some((e: any) => e.type === 'account.registered' && e.account_id === account.id)).toBe(true);

    // The password chosen at registration signs in.
    const again = new Browser(server.url);
    const signInFlow = await club.begin();
    const back = await again.submit(await open(again, signInFlow), { identifier: 'nina@club.test', password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
    expect((await club.finish(signInFlow, back.url)).claims()!.sub).toBe(account.id);
  });

  it('answers byte-identical pages for a registered and a new email; the registered one gets a notice and no code works', async () => {
    await server.admin.ok('POST', '/apps/club/accounts', { email: 'taken@club.test', password: PASSWORD, name: 'Taken' });
    const strip = (p: Page) => p.html
      .replace(/name="_csrf" value="[^"]*"/g, '')
      .replace(/\/interaction\/[^/"]+/g, '/interaction/X')
      .replace(/taken@club\.test|fresh@club\.test/g, 'EMAIL');
    const knownBrowser = new Browser(server.url);
    const known = await register(club, knownBrowser, { name: 'Someone', identifier: 'taken@club.test', password: PASSWORD });
    const fresh = await register(club, new Browser(server.url), { name: 'Someone', identifier: 'fresh@club.test', password: PASSWORD });
    expect(known.status).toBe(303);
    expect(fresh.status).toBe(known.status);
    expect(fresh.location.replace(/\/interaction\/[^/]+/, '')).toBe(known.location.replace(/\/interaction\/[^/]+/, ''));
    expect(fresh.page.status).toBe(known.page.status);
    expect(strip(fresh.page)).toBe(strip(known.page));

    const notice = await lastMessage('club', 'taken@club.test');
    expect(notice.text).toContain('already have an account');
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    // Whatever is typed, the registered address never gets a second account.
    const wrong = await enter(knownBrowser, known.page, '123456');
    expect(wrong.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(wrong.html).toContain('That code is not right');
    expect(await accountsWith('club', 'taken@club.test')).toHaveLength(1);
  });

  it('creates another account for a registered email when the app allows several per email', async () => {
    const existing = await server.admin.ok('POST', '/apps/guild/accounts', { email: 'twin@guild.test', password: PASSWORD, name: 'First' });
    const browser = new Browser(server.url);
    const { page, flow } = await register(guild, browser, { name: 'Second', identifier: 'twin@guild.test', password: 'another passphrase' });
    const done = await enter(browser, page, await codeFor('guild', 'twin@guild.test'));
    const tokens = await guild.finish(flow, done.url);
    expect(tokens.claims()!.sub).not.toBe(existing.id);
    expect(tokens.claims()!.name).toBe('Second');
    expect(await accountsWith('guild', 'twin@guild.test')).toHaveLength(2);
  });

  it('refuses a 7-character password with a clear message and keeps what was typed', async () => {
    const browser = new Browser(server.url);
    const { status, page } = await register(club, browser, { name: 'Shorty', identifier: 'short@club.test', password: 'seven77' });
    expect(status).toBe(303);
    expect(page.html).toContain('Choose a password of at least 8 characters.');
    expect(page.html).toContain('value="Shorty"');
    expect(page.html).toContain('value="short@club.test"');
    expect(await messagesTo('club', 'short@club.test')).toHaveLength(0);
  });

  it('refuses a breached or common password, and one that is the email address (NIST SP 800-63B §5.1.1.2)', async () => {
    for (const [password, message] of [['password123', 'too common'], ['Iloveyou1', 'too common'], ['common@club.test', 'not your email address']]) {
      const { page } = await register(club, new Browser(server.url), { name: 'Common', identifier: 'common@club.test', password });
      expect([password, page.html.includes(message)]).toEqual([password, true]);
    }
    expect(await messagesTo('club', 'common@club.test')).toHaveLength(0);
  });

  it('kills the code after 5 wrong tries: the 6th fails even with the right code', async () => {
    const browser = new Browser(server.url);
    const { page: first } = await register(club, browser, { name: 'Tries', identifier: 'tries@club.test', password: PASSWORD });
    const page = await outbox.exhaustCode((p: Page, c: string) => enter(browser, p, c), first, await codeFor('club', 'tries@club.test'));
    expect(page.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(page.html).toContain('can no longer be used');
    expect(page.html).toContain('name="password"');
    expect(await accountsWith('club', 'tries@club.test')).toHaveLength(0);
  });

  it('is not there when registration is closed: 404, and no link on the sign-in page', async () => {
    const browser = new Browser(server.url);
    const start = await open(browser, await closed.begin());
    expect(start.html).not.toContain('/register"');
    const path = `${new URL(start.url).pathname}/register`;
    expect((await browser.request(path)).status).toBe(404);
    const post = await browser.request(path, { method: 'POST', body: new URLSearchParams({ name: 'X', identifier: 'x@closed.test', password: PASSWORD }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(post.status).toBe(404);
    expect((await browser.request(`${path}/verify`)).status).toBe(404);
  });
});
