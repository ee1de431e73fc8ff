/** Endpoint behaviour the specifications require and real relying parties rely on. */
import { request as httpRequest } from 'node:http';
import { Browser } from '../support/browser.js';
import { oidc, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: Rp;

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, 'endpoints');
  await server.admin.ok('POST', '/apps/endpoints/accounts', { email: 'e@example.com', password: 'endpoints-password' });
});
afterAll(() => server.close());

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('authorization endpoint accepts POST (OIDC Core §3.1.2.1)', () => {
  it('signs in from a form POST of the authorization request, as with GET', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    const request = new URL(flow.url);
    const posted = await browser.request(request.origin + request.pathname, { method: 'POST', body: request.searchParams, headers: form });
    expect(posted.status).toBe(303);
    const page = await browser.follow(new URL(posted.headers.get('location')!, request).href, REDIRECT_URI);
    expect(page.html).toContain('name="password"');
    const done = await browser.submit(page, { identifier: 'e@example.com', password: 'endpoints-password' }, { action: '/login', stopAt: REDIRECT_URI });
    const tokens = await rp.finish(flow, done.url);
    expect(tokens.claims()?.email).toBe('e@example.com');
  });

  it('redirects a POSTed request error to the relying party like a GET one', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    const request = new URL(flow.url);
    request.searchParams.delete('code_challenge');
    const posted = await browser.request(request.origin + request.pathname, { method: 'POST', body: request.searchParams, headers: form });
    const page = await browser.follow(new URL(posted.headers.get('location')!, request).href, REDIRECT_URI);
    expect(new URL(page.url).searchParams.get('error')).toBe('invalid_request');
  });

  it('accepts POST at the end-session endpoint too (RP-Initiated Logout §2)', async () => {
    const browser = new Browser(server.url);
    const { tokens } = await signIn(rp, browser, 'e@example.com', 'endpoints-password');
    const endpoint = rp.config.serverMetadata().end_session_endpoint!;
    const posted = await browser.request(endpoint, { method: 'POST', body: new URLSearchParams({ id_token_hint: tokens.id_token! }), headers: form });
    expect(posted.status).toBe(303);
    const page = await browser.follow(new URL(posted.headers.get('location')!, endpoint).href);
    expect(page.html).toContain('Yes, sign me out');
  });
});

describe('token endpoint without client authentication (RFC 6749 §5.2)', () => {
  it('answers 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const res = await fetch(rp.config.serverMetadata().token_endpoint!, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'whatever', redirect_uri: REDIRECT_URI }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="/);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('answers 401 invalid_client at introspection and revocation too', async () => {
    for (const endpoint of [rp.config.serverMetadata().introspection_endpoint!, rp.config.serverMetadata().revocation_endpoint!]) {
      const res = await fetch(endpoint, { method: 'POST', headers: form, body: new URLSearchParams({ token: 'whatever' }) });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    }
  });

  it('keeps 401 invalid_client for a wrong secret', async () => {
    const wrong = await oidc.discovery(new URL(rp.issuer), rp.clientId, 'not-the-secret', undefined, { execute: [oidc.allowInsecureRequests] });
    await expect(oidc.clientCredentialsGrant(wrong, {})).rejects.toMatchObject({ error: 'invalid_client' });
  });
});

describe('URLs follow PUBLIC_URL, never the caller\'s Host headers', () => {
  /** Discovery as a client that sends its own Host and X-Forwarded-* headers (fetch may not set Host). */
  const discovery = (headers: Record<string, string>) => new Promise<{ issuer: string; token_endpoint: string }>((resolve, reject) => {
    const url = new URL(`${server.url}/apps/endpoints/.well-known/openid-configuration`);
    httpRequest(url, { headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject).end();
  });

  it('ignores Host, X-Forwarded-Host and X-Forwarded-Proto', async () => {
    const forged = await discovery({ host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
    expect(forged.issuer).toBe(`${server.url}/apps/endpoints`);
    expect(forged.token_endpoint).toBe(`${server.url}/apps/endpoints/token`);
    const plain = await discovery({});
    expect(plain).toEqual(forged);
  });
});
