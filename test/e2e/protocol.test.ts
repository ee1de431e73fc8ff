import { Browser } from '../support/browser.js';
import { oidc, open, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: Rp;

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, 'proto');
  await server.admin.ok('POST', '/apps/proto/accounts', { email: 'p@example.com', password: 'proto-password' });
});
afterAll(() => server.close());

async function tokenRequest(body: Record<string, string>) {
  return fetch(rp.config.serverMetadata().token_endpoint!, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${rp.clientId}:${rp.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams(body),
  });
}

describe('protocol safety', () => {
  it('shows an error page and does not redirect for an unregistered redirect_uri', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin({ redirect_uri: 'https://evil.example/callback' });
    const page = await browser.follow(flow.url);
    expect(page.status).toBe(400);
    expect(page.html).toContain('redirect_uri');
    expect(page.url.startsWith(server.url)).toBe(true);
  });

  it('answers invalid_grant when an authorization code is used twice', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    const page = await browser.submit(await open(browser, flow), { identifier: 'p@example.com', password: 'proto-password' }, { action: '/login', stopAt: REDIRECT_URI });
    const code = new URL(page.url).searchParams.get('code')!;
    const exchange = () => tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier });
    expect((await exchange()).status).toBe(200);
    const second = await exchange();
    expect(second.status).toBe(400);
    expect(((await second.json()) as any).error).toBe('invalid_grant');
  });

  it('requires PKCE (invalid_request without code_challenge)', async () => {
    const url = new URL(rp.config.serverMetadata().authorization_endpoint!);
    url.search = new URLSearchParams({ client_id: rp.clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid', state: 's' }).toString();
    const page = await new Browser(server.url).follow(url.href, REDIRECT_URI);
    const callback = new URL(page.url);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('lets a confidential client opt out of PKCE with require_pkce: false', async () => {
    const legacy = await setUpRp(server, 'proto', { require_pkce: false });
    const url = new URL(legacy.config.serverMetadata().authorization_endpoint!);
    url.search = new URLSearchParams({ client_id: legacy.clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid', state: 's' }).toString();
    const page = await new Browser(server.url).follow(url.href, REDIRECT_URI);
    expect(page.html).toContain('name="password"');
  });

  it('answers login_required for prompt=none without a session', async () => {
    const page = await open(new Browser(server.url), await rp.begin({ prompt: 'none' }));
    expect(new URL(page.url).searchParams.get('error')).toBe('login_required');
  });

  it('answers 404 for an unknown app', async () => {
    const res = await fetch(`${server.url}/apps/unknown-app/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error).toBe("not_found");
    const page = await fetch(`${server.url}/apps/unknown-app/auth`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('Not found');
  });

  it('refuses implicit and hybrid response types', async () => {
    const flow = await rp.begin({ response_type: 'id_token', nonce: 'n' });
    const page = await new Browser(server.url).follow(flow.url, REDIRECT_URI);
    const callback = new URL(page.url);
    const answer = new URLSearchParams(callback.hash.slice(1) || callback.search);
    expect(answer.get('error')).toBe('unsupported_response_type');
    expect(answer.get('code')).toBeNull();
  });

  it('issues client_credentials tokens to confidential clients that have the grant', async () => {
    const m2m = await setUpRp(server, 'proto', { grant_types: ['client_credentials'], redirect_uris: [REDIRECT_URI] });
    const res = await oidc.clientCredentialsGrant(m2m.config, {});
    expect(res.access_token).toBeDefined();
  });

  it('signs out through the logout confirmation page', async () => {
    const browser = new Browser(server.url);
    const { tokens } = await signIn(rp, browser, 'p@example.com', 'proto-password');
    const url = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token! });
    const confirm = await browser.follow(url.href);
    expect(confirm.html).toContain('Yes, sign me out');
    const done = await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });
    expect(done.html).toContain('You are signed out');
    const again = await open(browser, await rp.begin({ prompt: 'none' }));
    expect(new URL(again.url).searchParams.get('error')).toBe('login_required');
  });
});
