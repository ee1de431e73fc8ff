import { Browser } from '../support/browser.js';
import { oidc, open, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: Rp;
let accountId: string;

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, 'portal');
  const account = await server.admin.ok('POST', '/apps/portal/accounts', { email: 'Ada@Example.com', password: 'correct horse battery', name: 'Ada Lovelace', email_verified: true });
  accountId = account.id;
});
afterAll(() => server.close());

describe('password sign-in with openid-client', () => {
  it('publishes per-app discovery with PKCE S256 and the code response type only', async () => {
    const meta = rp.config.serverMetadata();
    expect(meta.issuer).toBe(`${server.url}/apps/portal`);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    const jwks: any = await (await fetch(meta.jwks_uri!)).json();
    expect(jwks.keys.map((k: any) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const key of jwks.keys) expect(key.d).toBeUndefined();
  });

  it('signs in through the HTML form, validates the ID token, reads userinfo and refreshes', async () => {
    const browser = new Browser(server.url);
    const { tokens } = await signIn(rp, browser, 'ada@example.com', 'correct horse battery');
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(accountId);
    expect(claims.iss).toBe(rp.issuer);
    expect(claims.email).toBe('ada@example.com');
    expect(claims.name).toBe('Ada Lovelace');
    expect(claims.tenant_id).toBeUndefined();
    expect(claims.amr).toEqual(['pwd']);
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, accountId);
    expect(info.email).toBe('ada@example.com');
    expect(tokens.refresh_token).toBeDefined();
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(accountId);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const account = await server.admin.ok('GET', `/apps/portal/accounts/${accountId}`);
    expect(account.login_count).toBe(1);
    expect(account.last_login_at).not.toBeNull();
  });

  it('re-shows the form with one generic message for a wrong password or an unknown email (303 each time)', async () => {
    for (const [identifier, password] of [['ada@example.com', 'wrong password!'], ['nobody@example.com', 'correct horse battery']]) {
      const browser = new Browser(server.url);
      const page = await open(browser, await rp.begin());
      const form = new URLSearchParams({ identifier, password, _csrf: /name="_csrf" value="([^"]+)"/.exec(page.html)![1] });
      const res = await browser.request(`${new URL(page.url).pathname}/login`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(303);
      const again = await browser.follow(res.headers.get('location')!);
      expect(again.html).toContain('Invalid email or password');
      expect(again.html).toContain(`value="${identifier}"`);
    }
  });

  it('sends strict headers on pages', async () => {
    const browser = new Browser(server.url);
    const page = await open(browser, await rp.begin());
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.html).not.toMatch(/https?:\/\/(?!rp\.example\.test)[^"]*\.(css|js)/);
  });

  it('refuses a form post without the CSRF token', async () => {
    const browser = new Browser(server.url);
    const page = await open(browser, await rp.begin());
    const res = await browser.request(`${new URL(page.url).pathname}/login`, {
      method: 'POST', body: new URLSearchParams({ identifier: 'ada@example.com', password: 'correct horse battery' }), headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(403);
  });

  it('keeps the session: a second authorization returns a code without a form', async () => {
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'ada@example.com', 'correct horse battery');
    const flow = await rp.begin();
    const page = await open(browser, flow);
    expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await rp.finish(flow, page.url);
    expect(tokens.claims()!.sub).toBe(accountId);
  });

  it('switches to another account with prompt=login in a signed-in browser', async () => {
    const other = await server.admin.ok('POST', '/apps/portal/accounts', { email: 'grace@example.com', password: 'another good password' });
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'ada@example.com', 'correct horse battery');
    const flow = await rp.begin({ prompt: 'login' });
    let page = await open(browser, flow);
    page = await browser.submit(page, { identifier: 'grace@example.com', password: 'another good password' }, { action: '/login', stopAt: REDIRECT_URI });
    // The provider ends the previous account's session first with an auto-submitting form.
    if (!page.url.startsWith(REDIRECT_URI)) {
      expect(page.html).toContain('logout');
      // Its inline script may run: the provider adds the script's hash to our baseline policy.
      expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-[^']+'/);
      page = await browser.submit(page, {}, { stopAt: REDIRECT_URI });
    }
    const tokens = await rp.finish(flow, page.url);
    expect(tokens.claims()!.sub).toBe(other.id);
  });

  it('ends a deactivated account\'s session and tokens at once', async () => {
    const gone = await server.admin.ok('POST', '/apps/portal/accounts', { email: 'leaving@example.com', password: 'leaving password' });
    const browser = new Browser(server.url);
    const { tokens } = await signIn(rp, browser, 'leaving@example.com', 'leaving password');
    await server.admin.ok('PATCH', `/apps/portal/accounts/${gone.id}`, { status: 'deactivated' });
    const page = await open(browser, await rp.begin({ prompt: 'none' }));
    expect(new URL(page.url).searchParams.get('error')).toBe('login_required');
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const form = await open(browser, await rp.begin());
    expect(form.html).toContain('name="password"');
  });
});
