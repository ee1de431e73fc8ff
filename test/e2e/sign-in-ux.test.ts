/**
 * The sign-in pages' small courtesies, through the HTML forms as a person uses them: role display names on the
 * tenant chooser, "Not you?" on a chooser, consent naming the tenant and roles it releases, focus on the password
 * after a wrong one, the code page saying when a new code may be asked for, and error pages that speak to people.
 */
import { Browser, choices, decode } from '../support/browser.js';
import { choose, open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

const SLUG = 'ux';
let server: TestServer;
let rp: Rp;
let thirdParty: Rp;
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer();
  await server.admin.ok('POST', '/apps', { slug: SLUG, name: 'UX Portal', settings: { login_methods: ['password', 'email_code'], role_names: { company_admin: 'Administrator', user: 'Member' } } });
  rp = await setUpRp(server, SLUG);
  thirdParty = await setUpRp(server, SLUG, { name: 'Reports', first_party: false });
  for (const [slug, name] of [['acme', 'Acme Ltd'], ['globex', 'Globex Corp']]) {
    ids[slug] = (await server.admin.ok('POST', `/apps/${SLUG}/tenants`, { slug, name })).id;
  }
  await server.admin.ok('PATCH', `/apps/${SLUG}/tenants/globex`, { role_names: { user: 'Globex staff' } });
  for (const [key, email, password] of [['duo', 'duo@example.com', 'password-duo'], ['solo', 'solo@example.com', 'password-solo']]) {
    ids[key] = (await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email, password })).id;
  }
  await server.admin.ok('PUT', `/apps/${SLUG}/tenants/acme/members/${ids.duo}`, { roles: ['company_admin', 'user'] });
  await server.admin.ok('PUT', `/apps/${SLUG}/tenants/globex/members/${ids.duo}`, { roles: ['user'] });
  await server.admin.ok('PUT', `/apps/${SLUG}/tenants/acme/members/${ids.solo}`, { roles: ['user', 'auditor'] });
}, 60_000);
afterAll(async () => {
  await server?.close();
});

const details = (html: string) => [...html.matchAll(/<span class="detail">([^<]*)<\/span>/g)].map((m) => decode(m[1]));

describe('choosers', () => {
  it('show role display names (the tenant\'s own, else the app\'s, else the role) and offer "Not you?"', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    let page = await open(browser, flow);
    page = await browser.submit(page, { identifier: 'duo@example.com', password: 'password-duo' }, { action: '/login', stopAt: REDIRECT_URI });
    expect(choices(page).map((c) => c.label)).toEqual(['Acme Ltd', 'Globex Corp']);
    expect(details(page.html)).toEqual(['Administrator, Member', 'Globex staff']);
    expect(page.html).toContain('Not you? Sign in with another account');
    // "Not you?": back to the sign-in page; another account signs in and gets its own tenant.
    page = await browser.submit(page, {}, { action: '/not-me' });
    expect(page.html).toContain('name="password"');
    page = await browser.submit(page, { identifier: 'solo@example.com', password: 'password-solo' }, { action: '/login', stopAt: REDIRECT_URI });
    expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await rp.finish(flow, page.url);
    expect(tokens.claims()).toMatchObject({ sub: ids.solo, tenant_slug: 'acme' });
  });
});

describe('consent', () => {
  it('names the tenant and the roles (by their display names) that the tokens will carry', async () => {
    const browser = new Browser(server.url);
    let page = await open(browser, await thirdParty.begin());
    page = await browser.submit(page, { identifier: 'solo@example.com', password: 'password-solo' }, { action: '/login', stopAt: REDIRECT_URI });
    expect(page.html).toContain('<strong>Reports</strong> wants to:');
    expect(page.html).toContain('Know that you act for <strong>Acme Ltd</strong> as <strong>Member, auditor</strong>');
  });
});

describe('sign-in page', () => {
  it('after a wrong password keeps the email and puts the focus on the password', async () => {
    const browser = new Browser(server.url);
    let page = await open(browser, await rp.begin());
    expect(page.html).toMatch(/id="identifier"[^>]* autofocus /);
    page = await browser.submit(page, { identifier: 'solo@example.com', password: 'wrong' }, { action: '/login' });
    expect(page.html).toContain('Invalid email or password');
    expect(page.html).not.toMatch(/id="identifier"[^>]* autofocus /);
    expect(page.html).toMatch(/id="password"[^>]* autofocus aria-describedby="form-error"/);
  });

  it('the code page says when a new code may be asked for, counting down from the send', async () => {
    const browser = new Browser(server.url);
    const start = await open(browser, await rp.begin());
    const page = await browser.submit(start, { identifier: 'solo@example.com' }, { formaction: `${new URL(start.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
    const seconds = Number(/You can ask for a new one in (\d+) seconds?\./.exec(page.html)?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(30);
    expect(page.html).toContain('aria-describedby="resend-when"');
  });
});

describe('error pages', () => {
  it('speak to people: a friendly text by code, the technical one folded away, and a way back', async () => {
    const res = await fetch(`${server.url}/apps/${SLUG}/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=https://evil.test/cb`, {
      headers: { accept: 'text/html', referer: 'https://portal.example.test/some/page?x=1' },
    });
    const html = await res.text();
    expect(res.status).toBe(400);
    expect(html).toContain('The application is not known here. Tell its support team.');
    expect(html).toMatch(/<details class="muted"><summary>Technical details<\/summary>/);
    expect(html).toContain('<a class="button primary" href="https://portal.example.test" rel="noreferrer">Go back to the application</a>');
  });

  it('are in the person\'s language', async () => {
    const res = await fetch(`${server.url}/nothing-here`, { headers: { accept: 'text/html', 'accept-language': 'de-DE,de;q=0.9' } });
    const html = await res.text();
    expect(res.status).toBe(404);
    expect(html).toContain('<h1>Nicht gefunden</h1>');
    expect(html).toContain('Unter dieser Adresse gibt es nichts.');
  });
});
