/**
 * Passkeys in a real browser: Debian's Chromium driven by playwright-core, with the DevTools WebAuthn virtual
 * authenticator (resident keys, user verification). The server's PUBLIC_URL is http://localhost:{port}: WebAuthn
 * refuses an IP address as RP ID, and localhost is a secure context.
 */
import { setDefaultResultOrder } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser as Chromium, type BrowserContext, type Page as ChromiumPage } from 'playwright-core';
import { Browser } from '../support/browser.js';
import { open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

const MFA = 'urn:portcullis:acr:mfa';
const PASSWORD = 'correct horse battery';
setDefaultResultOrder('ipv4first');

let url: string;
let server: TestServer;
let chromiumBrowser: Chromium;
let rp: Rp;
let accountId: string;
/** The relying party's callback for the Chromium tests: a real local page, so every navigation to it completes. */
let callbackServer: Server;
let chromiumCallback: string;

beforeAll(async () => {
  // WebAuthn refuses an IP address as RP ID: PUBLIC_URL names localhost.
  server = await startServer({ publicHost: 'localhost' });
  url = server.url;
  callbackServer = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('callback'));
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  chromiumCallback = `http://localhost:${(callbackServer.address() as AddressInfo).port}/callback`;
  rp = await setUpRp(server, 'keys', { redirect_uris: [REDIRECT_URI, chromiumCallback] });
  await server.admin.ok('PATCH', '/apps/keys', { settings: { mfa: 'required', mfa_methods: ['webauthn', 'totp'], passkey_sign_in: true } });
  accountId = (await server.admin.ok('POST', '/apps/keys/accounts', { email: 'kim@example.com', password: PASSWORD, email_verified: true })).id;
  chromiumBrowser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
}, 60_000);

afterAll(async () => {
  await chromiumBrowser?.close();
  await server.close();
  await new Promise((resolve) => callbackServer.close(resolve));
});

/**
 * A page with a virtual authenticator. `presence(false)`
 * stops the authenticator from answering by itself: Chromium resolves a pending autofill request (conditional
 * mediation) at once with an automated authenticator, which would sign in before a test reaches the page it means.
 */
async function withAuthenticator(context: BrowserContext) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  const presence = (enabled: boolean) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
  return { page, presence };
}

const beginInChromium = () => rp.begin({ redirect_uri: chromiumCallback });

/** Waits for the browser to load the relying party's callback; its URL carries the code. */
async function untilCallback(page: ChromiumPage): Promise<string> {
  await page.waitForURL((u) => u.href.startsWith(chromiumCallback), { timeout: 15_000 });
  return page.url();
}

async function typePassword(page: ChromiumPage) {
  await page.fill('#identifier', 'kim@example.com');
  await page.fill('#password', PASSWORD);
  await page.click('button.primary');
}

/** POSTed passkey responses, captured as the browser sent them (to replay them later). */
const captured: Array<{ url: string; body: string }> = [];

describe('passkeys in Chromium with a virtual authenticator', () => {
  let context: BrowserContext;
  let page: ChromiumPage;
  let presence: (enabled: boolean) => Promise<unknown>;

  beforeAll(async () => {
    context = await chromiumBrowser.newContext();
    ({ page, presence } = await withAuthenticator(context));
    // Observed, not routed: a request the test routes and continues is left to the browser from then on, so the
    // redirect to the callback after it escaped the callback route (a failed navigation to the RP's host).
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/passkey')) captured.push({ url: request.url(), body: request.postData() ?? '' });
    });
  });
  afterAll(() => context.close());

  it('registers a passkey while enrolling during sign-in (the page script runs under the strict CSP)', async () => {
    const flow = await beginInChromium();
    await page.goto(flow.url);
    await typePassword(page);
    await page.waitForSelector('#passkey-button');
    const csp = (await page.request.get(page.url())).headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    await page.fill('#passkey-name', 'Laptop');
    await page.click('#passkey-button');
    await page.waitForSelector('text=Save your recovery codes');
    await page.click('button.primary');
    const claims = (await rp.finish(flow, await untilCallback(page))).claims()!;
    expect(claims).toMatchObject({ sub: accountId, acr: MFA, amr: ['pwd', 'hwk', 'mfa'] });
    const factors = await server.admin.ok('GET', `/apps/keys/accounts/${accountId}/factors`);
    expect(factors.find((f: any) => f.type === 'webauthn')).toMatchObject({ name: 'Laptop', backed_up: false, device_type: 'singleDevice' });
  }, 60_000);

  it('signs in with the passkey alone after signing out: no identifier, no password', async () => {
    await context.clearCookies();
    const flow = await beginInChromium();
    await presence(false);
    await page.goto(flow.url);
    await page.click('text=Sign in with a passkey');
    await presence(true);
    await page.click('#passkey-button');
    const claims = (await rp.finish(flow, await untilCallback(page))).claims()!;
    expect(claims).toMatchObject({ sub: accountId, acr: MFA, amr: ['hwk', 'user', 'mfa'] });
  }, 60_000);

  it('uses the passkey as the second factor after a password', async () => {
    await context.clearCookies();
    const flow = await beginInChromium();
    await presence(false);
    await page.goto(flow.url);
    await typePassword(page);
    await page.waitForSelector('text=Use a passkey');
    await presence(true);
    await page.click('#passkey-button');
    const claims = (await rp.finish(flow, await untilCallback(page))).claims()!;
    expect(claims).toMatchObject({ sub: accountId, acr: MFA, amr: ['pwd', 'hwk', 'user', 'mfa'] });
    const factor = (await server.admin.ok('GET', `/apps/keys/accounts/${accountId}/factors`)).find((f: any) => f.type === 'webauthn');
    expect(factor.last_used_at).not.toBeNull();
  }, 60_000);
  it('signs in through autofill on the sign-in page: the identifier field offers the passkey', async () => {
    await context.clearCookies();
    const flow = await beginInChromium();
    // Only until the response starts: the page signs in by itself, maybe before its load event.
    await page.goto(flow.url, { waitUntil: 'commit' });
    // The field asks the browser for passkey suggestions (autocomplete="username webauthn", checked below); the
    // automated authenticator answers the pending request as a person picking the suggestion would, and the page
    // signs in with nothing typed.
    const claims = (await rp.finish(flow, await untilCallback(page))).claims()!;
    expect(claims).toMatchObject({ sub: accountId, acr: MFA, amr: ['hwk', 'user', 'mfa'] });
  }, 60_000);
});

describe('passkeys added in the account center', () => {
  it('registers a passkey on the account page after a password sign-in, with recovery codes, then signs in with it alone', async () => {
    await server.admin.ok('POST', '/apps', { slug: 'center-keys', name: 'Member Portal' });
    await server.admin.ok('PATCH', '/apps/center-keys', { settings: { mfa: 'optional', mfa_methods: ['webauthn', 'totp'], passkey_sign_in: true } });
    const leeId = (await server.admin.ok('POST', '/apps/center-keys/accounts', { email: 'lee@example.com', password: PASSWORD, email_verified: true })).id;
    const context = await chromiumBrowser.newContext();
    try {
      const { page, presence } = await withAuthenticator(context);
      const center = `${url}/apps/center-keys/account`;
      await presence(false);
      await page.goto(center);
      await page.fill('#identifier', 'lee@example.com');
      await page.fill('#password', PASSWORD);
      await page.click('button.primary');
      await page.waitForURL(center);
      await presence(true);
      await page.fill('#passkey-name', 'Work laptop');
      await page.click('#passkey-button');
      await page.waitForURL(`${center}#security`);
      expect(await page.getByRole('status').first().textContent()).toContain('The passkey was added');
      expect(await page.locator('#security').textContent()).toContain('Work laptop');
      expect(await page.locator('.recovery-codes li').count()).toBe(10);
      const factors = await server.admin.ok('GET', `/apps/center-keys/accounts/${leeId}/factors`);
      expect(factors.map((f: any) => [f.type, f.name]).sort()).toEqual([['recovery_codes', 'Recovery codes'], ['webauthn', 'Work laptop']].sort());

      // The new passkey is the whole sign-in at a relying party of the app.
      const portal = await setUpRp(server, 'center-keys', { redirect_uris: [chromiumCallback] });
      await context.clearCookies();
      const flow = await portal.begin({ redirect_uri: chromiumCallback });
      await presence(false);
      await page.goto(flow.url);
      await page.click('text=Sign in with a passkey');
      await presence(true);
      await page.click('#passkey-button');
      await page.waitForURL((u) => u.href.startsWith(chromiumCallback), { timeout: 15_000 });
      expect((await portal.finish(flow, page.url())).claims()).toMatchObject({ sub: leeId, amr: ['hwk', 'user', 'mfa'] });
    } finally {
      await context.close();
    }
  }, 90_000);
});

describe('bad passkey responses', () => {
  /** A fresh attempt at the passkey page, in the fetch browser. */
  async function passkeyPage() {
    const browser = new Browser(url);
    const start = await open(browser, await rp.begin());
    const page = await browser.follow(`${start.url}/passkey`);
    expect(page.html).toContain('data-passkey="authenticate"');
    return { browser, page };
  }
  const post = (browser: Browser, page: Awaited<ReturnType<Browser['follow']>>, response: string) => browser.submit(page, { response }, { action: '/passkey', stopAt: REDIRECT_URI });
  const factorCount = async () => (await server.admin.ok('GET', `/apps/keys/accounts/${accountId}/factors`)).length;

  it('offers passkey autofill on the sign-in page: the identifier field and a form for the assertion', async () => {
    const browser = new Browser(url);
    const page = await open(browser, await rp.begin());
    expect(page.html).toContain('autocomplete="username webauthn"');
    expect(page.html).toMatch(/<form method="post" action="[^"]*\/passkey" data-passkey="autofill"/);
    // An app without passkey sign-in keeps the plain field and no script.
    const plain = await setUpRp(server, 'no-passkeys');
    const other = await open(new Browser(url), await plain.begin());
    expect(other.html).toContain('autocomplete="username"');
    expect(other.html).not.toContain('data-passkey');
  });

  it('answers 400 for malformed JSON and for a response that is no credential', async () => {
    const before = await factorCount();
    for (const response of ['not json', '[1,2]', JSON.stringify({ id: 'x', rawId: 'x', type: 'public-key', response: {} })]) {
      const { browser, page } = await passkeyPage();
      const answer = await post(browser, page, response);
      expect(answer.status).toBe(400);
      expect(answer.html).toContain('That passkey did not work');
    }
    expect(await factorCount()).toBe(before);
  });

  it('refuses a replayed assertion (its challenge belonged to another attempt) and a changed origin', async () => {
    const real = captured.find((c) => c.url.endsWith('/passkey'));
    expect(real).toBeDefined();
    const response = new URLSearchParams(real!.body).get('response')!;
    const replay = await passkeyPage();
    expect((await post(replay.browser, replay.page, response)).status).toBe(400);

    const parsed = JSON.parse(response);
    const clientData = JSON.parse(Buffer.from(parsed.response.clientDataJSON, 'base64url').toString());
    parsed.response.clientDataJSON = Buffer.from(JSON.stringify({ ...clientData, origin: 'https://evil.example' })).toString('base64url');
    const wrongOrigin = await passkeyPage();
    expect((await post(wrongOrigin.browser, wrongOrigin.page, JSON.stringify(parsed))).status).toBe(400);
    const audit = (await server.admin.ok('GET', '/apps/keys/audit?limit=200')).items;
    expect(audit.some((e: any) => e.type === 'mfa.failed' && e.detail.type === 'webauthn')).toBe(true);
  });

  it('refuses a registration response posted without a ceremony', async () => {
    const browser = new Browser(url);
    const start = await open(browser, await rp.begin());
    const csrf = /name="_csrf" value="([^"]+)"/.exec(start.html)![1];
    const res = await browser.request(`${start.url}/mfa/passkey/register`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, response: '{}' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(303);
  });
});
