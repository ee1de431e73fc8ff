/**
 * Sign-in in real Chromium, from a relying party on another origin (and site): password, email code, tenant choice
 * and consent. Each test clicks and types as a person does, and proves three things the fetch-based suites cannot:
 * the browser really gets back to the relying party (whose page shows the ID token's claims), nothing was refused or
 * logged on the way (CSP — including `form-action` on the 303s after each POST —, cookies, failed requests, console
 * errors), and focus starts where the person types or chooses.
 */
import { arrive, claim, expectNoProblems, focused, launchChromium, openPage, screenshot, styled, type BrowserPage, type Chromium } from '../support/chromium.js';
import { startAnotherOriginRp, type AnotherOriginRp } from '../support/another-origin-rp.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { codeIn, lastMessage } from '../support/outbox.js';
import { startServer, type TestServer } from '../support/server.js';

const SLUG = 'portal';
let server: TestServer;
let chromium: Chromium;
let rp: AnotherOriginRp;
let thirdParty: AnotherOriginRp;
const ids: Record<string, string> = {};
let tab: BrowserPage;
/** Per test: a real browser on a shared 2-core machine can be slow; the steps themselves fail fast (see `arrive`). */
const SLOW = 60_000;

beforeAll(async () => {
  server = await startServer();
  chromium = await launchChromium();
  await server.admin.ok('POST', '/apps', { slug: SLUG, name: 'Northwind Client Portal' });
  rp = await startAnotherOriginRp(server, SLUG);
  // Not first-party: the person is asked for consent (OIDC Core §3.1.2.4).
  thirdParty = await startAnotherOriginRp(server, SLUG, { name: 'Partner Reports', first_party: false });
  for (const [slug, name] of [['acme', 'Acme Ltd'], ['globex', 'Globex Corp']]) {
    ids[slug] = (await server.admin.ok('POST', `/apps/${SLUG}/tenants`, { slug, name })).id;
  }
  const people: Array<[string, string, string?]> = [['solo', 'solo@example.com', 'password-solo'], ['duo', 'duo@example.com', 'password-duo'], ['coder', 'coder@example.com']];
  for (const [key, email, password] of people) {
    ids[key] = (await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email, name: key, ...(password ? { password } : {}) })).id;
  }
  await server.admin.ok('PUT', `/apps/${SLUG}/tenants/acme/members/${ids.solo}`, { roles: ['user'] });
  await server.admin.ok('PUT', `/apps/${SLUG}/tenants/acme/members/${ids.coder}`, { roles: ['user'] });
  await server.admin.ok('PUT', `/apps/${SLUG}/tenants/acme/members/${ids.duo}`, { roles: ['company_admin', 'user'] });
  await server.admin.ok('PUT', `/apps/${SLUG}/tenants/globex/members/${ids.duo}`, { roles: ['user'] });
}, 60_000);
afterAll(async () => {
  await Promise.all([rp?.close(), thirdParty?.close(), chromium?.close()]);
  await server?.close();
});
beforeEach(async () => {
  tab = await openPage(chromium);
});
afterEach(async () => {
  await tab.close();
});

const interactionPrefix = () => `${server.url}/apps/${SLUG}/interaction/`;

/** Opens the RP's /login on the RP's origin and follows it to Portcullis's sign-in page. */
async function startAt(relyingParty: AnotherOriginRp, query = ''): Promise<void> {
  await tab.page.goto(`${relyingParty.url}/login${query}`);
  await arrive(tab, interactionPrefix());
  expect(await tab.page.locator('h1').textContent()).toBe('Sign in to Northwind Client Portal');
  expect(await styled(tab.page)).toBe(true);
  // The first field has autofocus: the person can type the email straight away.
  expect(await focused(tab.page)).toBe('#identifier');
}

async function typePassword(email: string, password: string): Promise<void> {
  await tab.page.keyboard.type(email); // into the focused field: proves the focus is usable, not just set
  await tab.page.getByLabel('Password').fill(password);
  await tab.page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

describe('sign-in in a real browser, relying party on another origin', () => {
  it('password: reaches the RP with the tenant in the ID token, nothing refused or logged', async () => {
    await startAt(rp);
    await screenshot(tab.page, 'sign-in');
    await typePassword('solo@example.com', 'password-solo');
    await arrive(tab, `${rp.url}/callback`);
    expect(await tab.page.locator('h1').textContent()).toBe('Signed in to the portal');
    expect(await claim(tab.page, 'sub')).toBe(ids.solo);
    expect(await claim(tab.page, 'email')).toBe('solo@example.com');
    expect(await claim(tab.page, 'tenant_slug')).toBe('acme');
    expect(await claim(tab.page, 'roles')).toBe('["user"]');
    expect(await claim(tab.page, 'amr')).toBe('["pwd"]');
    await expectNoProblems(tab);
  }, SLOW);

  it('email code: the emailed code typed into the code page signs in', async () => {
    await startAt(rp);
    await tab.page.keyboard.type('coder@example.com');
    await tab.page.getByRole('button', { name: 'Email me a code' }).click();
    await arrive(tab, `${interactionPrefix()}`);
    await tab.page.waitForURL(/\/code$/);
    expect(await tab.page.locator('h1').textContent()).toBe('Enter your code');
    // The code field has autofocus (and autocomplete=one-time-code): the person types the code at once.
    expect(await focused(tab.page)).toBe('#code');
    await screenshot(tab.page, 'email-code');
    const code = codeIn(await lastMessage(server, SLUG, 'coder@example.com'));
    await tab.page.keyboard.type(code);
    await tab.page.keyboard.press('Enter');
    await arrive(tab, `${rp.url}/callback`);
    expect(await claim(tab.page, 'sub')).toBe(ids.coder);
    expect(await claim(tab.page, 'email_verified')).toBe('true');
    expect(await claim(tab.page, 'amr')).toBe('["otp","email"]');
    expect(await claim(tab.page, 'tenant_slug')).toBe('acme');
    await expectNoProblems(tab);
  }, SLOW);

  it('tenant choice: an account in two tenants clicks the tenant it wants', async () => {
    await startAt(rp);
    await typePassword('duo@example.com', 'password-duo');
    await tab.page.waitForURL(/\/interaction\/[^/]+$/);
    const options = tab.page.locator('button[name="choice"]');
    // Each button is the tenant's name, with the roles as detail.
    expect(await options.allTextContents()).toEqual(['Acme Ltdcompany_admin, user', 'Globex Corpuser']);
    expect(await options.locator('.detail').allTextContents()).toEqual(['company_admin, user', 'user']);
    // The first choice has autofocus: Enter picks it, Tab moves to the next.
    expect(await focused(tab.page)).toBe(`[name=choice][value=${ids.acme}]`);
    await screenshot(tab.page, 'select-tenant');
    await tab.page.getByRole('button', { name: /^Globex Corp/ }).click();
    await arrive(tab, `${rp.url}/callback`);
    expect(await claim(tab.page, 'sub')).toBe(ids.duo);
    expect(await claim(tab.page, 'tenant_slug')).toBe('globex');
    expect(await claim(tab.page, 'tenant_name')).toBe('Globex Corp');
    expect(await claim(tab.page, 'roles')).toBe('["user"]');
    await expectNoProblems(tab);
  }, SLOW);

  it('consent: a client that is not first-party is allowed with one click', async () => {
    await startAt(thirdParty);
    await typePassword('solo@example.com', 'password-solo');
    await tab.page.waitForURL(/\/interaction\/[^/]+$/);
    expect(await tab.page.getByText('Partner Reports wants to:').count()).toBe(1);
    // Allow has autofocus: the page is a question, the answer is one key away.
    expect(await focused(tab.page)).toBe('[name=decision][value=allow]');
    await screenshot(tab.page, 'consent');
    await tab.page.getByRole('button', { name: 'Allow' }).click();
    await arrive(tab, `${thirdParty.url}/callback`);
    expect(await claim(tab.page, 'sub')).toBe(ids.solo);
    expect(await claim(tab.page, 'aud')).toBe(thirdParty.clientId);
    expect(await claim(tab.page, 'tenant_slug')).toBe('acme');
    await screenshot(tab.page, 'rp-claims');
    await expectNoProblems(tab);
  }, SLOW);

  it('wrong password: the page says so after the 303, keeps the email, and the right password then signs in', async () => {
    await startAt(rp);
    await typePassword('solo@example.com', 'not-the-password');
    await tab.page.waitForURL(/\/interaction\/[^/]+$/);
    const alert = tab.page.getByRole('alert');
    expect(await alert.textContent()).toBe('Invalid email or password');
    expect(await tab.page.getByLabel('Email').inputValue()).toBe('solo@example.com');
    expect(await tab.page.getByLabel('Email').getAttribute('aria-describedby')).toBe('form-error');
    // The email is kept: the focus goes to the password, the field the person retypes.
    expect(await focused(tab.page)).toBe('#password');
    await screenshot(tab.page, 'sign-in-error');
    await tab.page.getByLabel('Password').fill('password-solo');
    await tab.page.getByLabel('Password').press('Enter'); // Enter submits with the first button: "Sign in"
    await arrive(tab, `${rp.url}/callback`);
    expect(await claim(tab.page, 'sub')).toBe(ids.solo);
    await expectNoProblems(tab);
  }, SLOW);

  it('cancel: the Cancel button on the sign-in page returns to the RP with access_denied', async () => {
    await startAt(rp);
    await tab.page.getByRole('button', { name: 'Cancel and return to Northwind Portal' }).click();
    // The 303 from /abort goes on to the RP's origin: allowed by the page's form-action (RFC 6749 §4.1.2.1 error).
    await arrive(tab, `${rp.url}/callback`);
    expect(await tab.page.locator('h1').textContent()).toBe('Sign-in not completed');
    expect(await tab.page.locator('#error').textContent()).toBe('access_denied');
    await expectNoProblems(tab);
  }, SLOW);
});

/** The "nothing was reported" assertions above are only worth something if the harness does see problems. */
describe('the browser harness', () => {
  let bad: Server;
  let badUrl: string;
  beforeAll(async () => {
    bad = createServer((req, res) => {
      if (req.url === '/style.css') return void res.writeHead(200, { 'content-type': 'text/css' }).end('body { color: red }');
      if (req.url === '/favicon.ico') return void res.writeHead(204).end();
      // A form posting to its own origin whose answer is a 303 to another origin, under form-action 'self'.
      if (req.url === '/form') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': "default-src 'none'; form-action 'self'" });
        return void res.end('<!doctype html><title>form</title><form method="post" action="/go"><button>Go</button></form>');
      }
      if (req.url === '/go') return void res.writeHead(303, { location: badUrl.replace('127.0.0.1', 'localhost') + 'elsewhere' }).end();
      if (req.url === '/elsewhere') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>');
      res.writeHead(200, {
        'content-type': 'text/html',
        'content-security-policy': "default-src 'none'; style-src 'none'",
        'set-cookie': 'refused=1; SameSite=None; Path=/', // SameSite=None without Secure: Chromium refuses it
      });
      res.end('<!doctype html><title>bad</title><link rel="stylesheet" href="/style.css"><p>bad</p>');
    });
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
    badUrl = `http://127.0.0.1:${(bad.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    bad.closeAllConnections();
    await new Promise((resolve) => bad.close(resolve));
  });

  it('records a CSP violation and a refused cookie, and expectNoProblems then fails', async () => {
    await tab.page.goto(badUrl);
    await expect(expectNoProblems(tab)).rejects.toThrow(/\[csp\].*style-src 'none'/);
    expect(tab.problems.map((p) => p.kind)).toEqual(expect.arrayContaining(['csp', 'cookie']));
    expect(tab.problems.find((p) => p.kind === 'cookie')!.text).toMatch(/refused.*SameSiteNoneInsecure/);
  }, SLOW);

  it('sees form-action applied to the redirect after a form POST, and arrive() fails naming it', async () => {
    await tab.page.goto(`${badUrl}form`);
    await tab.page.getByRole('button', { name: 'Go' }).click();
    await expect(arrive(tab, badUrl.replace('127.0.0.1', 'localhost'))).rejects.toThrow(/violates the following Content Security Policy directive: "form-action 'self'"/);
  }, SLOW);
});

