/**
 * The account API end to end: a person signs in through the HTML forms with an openid-client relying party that asks
 * for `account:read account:write`, and the portal calls `/apps/{slug}/api/account/…` with the access token. Also the
 * support PIN checked by a support agent through the Admin API, and RFC 6750 answers for missing or weak tokens.
 */
import { Browser } from '../support/browser.js';
import { oidc, setUpRp, signIn, open, REDIRECT_URI, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { accessState, ENDED, LIVE } from '../support/access-checks.js';

const SLUG = 'selfserve';
const PASSWORD = 'velvet-harbor-lantern-1893';
const ACCOUNT_SCOPES = 'openid email profile account:read account:write';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

let server: TestServer;
let rp: Rp;
let other: Rp;
let counter = 0;

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, SLUG, { grant_types: ['authorization_code', 'refresh_token'] });
  other = await setUpRp(server, SLUG, { name: 'Billing', grant_types: ['authorization_code', 'refresh_token'] });
});
afterAll(() => server.close());

const api = (path: string) => `${server.url}/apps/${SLUG}/api/account${path}`;

async function call(method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(api(path), {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

async function person(): Promise<{ id: string; email: string }> {
  const email = `self${++counter}@selfserve.test`;
  const { id } = await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email, password: PASSWORD, name: 'Ada' });
  return { id, email };
}

async function signedIn(email: string, scope = ACCOUNT_SCOPES, relyingParty = rp, userAgent = FIREFOX) {
  const browser = new Browser(server.url, { 'user-agent': userAgent });
  const { tokens } = await signIn(relyingParty, browser, email, PASSWORD, { params: { scope } });
  return { browser, tokens };
}

describe('profile', () => {
  it('reads and changes the profile; userinfo and the next ID token follow', async () => {
    const { id, email } = await person();
    const { tokens } = await signedIn(email);
    expect(tokens.scope).toContain('account:write');
    const profile = await call('GET', '/profile', tokens.access_token);
    expect(profile.status).toBe(200);
    expect(profile.headers.get('cache-control')).toBe('no-store');
    expect(profile.body).toMatchObject({ sub: id, email, email_verified: false, name: 'Ada', locale: null, has_password: true });

    const changed = await call('PATCH', '/profile', tokens.access_token, { name: 'Ada Lovelace', locale: 'fr' });
    expect(changed).toMatchObject({ status: 200, body: { name: 'Ada Lovelace', locale: 'fr' } });
    expect(await oidc.fetchUserInfo(rp.config, tokens.access_token, id)).toMatchObject({ name: 'Ada Lovelace', locale: 'fr' });
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect(refreshed.claims()).toMatchObject({ name: 'Ada Lovelace', locale: 'fr' });
    const audit = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=account.updated&account_id=${id}`)).items;
    expect(audit[0].detail).toMatchObject({ by: 'account', fields: 'name locale' });
  });

  it('refuses bad input on every field with a 400 naming it', async () => {
    const { email } = await person();
    const { tokens } = await signedIn(email);
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 'a\u0000b' }, { name: 42 }, { locale: 'xx' }, { locale: 'fr-FR' },
      { email: 'new@example.com' }, { phone_number: '+14155550123' }, { status: 'active' }, [], 'null']) {
      const res = await call('PATCH', '/profile', tokens.access_token, body);
      expect([body, res.status, res.body.error]).toEqual([body, 400, 'invalid_request']);
    }
    const notJson = await fetch(api('/profile'), { method: 'PATCH', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' }, body: '{not json' });
    expect(notJson.status).toBe(400);
  });
});

describe('bearer tokens (RFC 6750)', () => {
  it('answers 401 with a Bearer challenge without a token, and invalid_token for a bad one', async () => {
    const none = await call('GET', '/profile', undefined);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(`Bearer realm="${rp.issuer}"`);
    const bad = await call('GET', '/profile', 'not-a-real-token');
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('invalid_token');
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]+"$/);
    const malformed = await fetch(api('/profile'), { headers: { authorization: 'Basic abc' } });
    expect(malformed.status).toBe(401);
    expect(malformed.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('never takes the token from the query string', async () => {
    const { email } = await person();
    const { tokens } = await signedIn(email);
    const res = await fetch(`${api('/profile')}?access_token=${tokens.access_token}`);
    expect(res.status).toBe(401);
  });

  it('answers 403 insufficient_scope naming the scope a token lacks', async () => {
    const { email } = await person();
    const plain = await signedIn(email, 'openid email');
    const refused = await call('GET', '/profile', plain.tokens.access_token);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('insufficient_scope');
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(refused.headers.get('www-authenticate')).toContain('scope="account:read"');

    const reader = await signedIn(email, 'openid account:read');
    expect((await call('GET', '/sessions', reader.tokens.access_token)).status).toBe(200);
    const write = await call('PATCH', '/profile', reader.tokens.access_token, { name: 'X' });
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toContain('scope="account:write"');
    expect((await call('POST', '/support-pin', reader.tokens.access_token)).status).toBe(403);
  });

  it('stops accepting the token once the account is deactivated', async () => {
    const { id, email } = await person();
    const { tokens } = await signedIn(email);
    await server.admin.ok('POST', `/apps/${SLUG}/accounts/${id}/deactivate`);
    const res = await call('GET', '/profile', tokens.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});

describe('sessions and connected apps', () => {
  it('lists two browsers, marks the current one, and signs out only the other', async () => {
    const { email } = await person();
    const mine = await signedIn(email);
    const theirs = await signedIn(email, 'openid email', rp, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1');
    const listed = await call('GET', '/sessions', mine.tokens.access_token);
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(2);
    const current = listed.body.find((s: any) => s.current);
    const phone = listed.body.find((s: any) => !s.current);
    expect(current).toMatchObject({ browser: 'Firefox', os: 'Linux', method: 'password' });
    expect(phone).toMatchObject({ browser: 'Safari', os: 'iOS' });

    expect((await call('DELETE', `/sessions/${phone.id}`, mine.tokens.access_token)).status).toBe(204);
    expect(await accessState(rp, theirs.browser, { access_token: theirs.tokens.access_token, refresh_token: theirs.tokens.refresh_token })).toEqual(ENDED);
    expect(await accessState(rp, mine.browser, { access_token: mine.tokens.access_token, refresh_token: mine.tokens.refresh_token })).toEqual(LIVE);
    expect((await call('DELETE', `/sessions/${phone.id}`, mine.tokens.access_token)).status).toBe(404);
    expect((await call('DELETE', '/sessions/..%2F..%2Fx', mine.tokens.access_token)).status).toBe(404);
    expect((await call('DELETE', `/sessions/${'a'.repeat(200)}`, mine.tokens.access_token)).status).toBe(404);
  });

  it('lists connected apps with client, scopes and tenant; revoking one kills its refresh token only', async () => {
    const { id, email } = await person();
    await server.admin.ok('POST', `/apps/${SLUG}/tenants`, { slug: `t${counter}`, name: 'Acme' });
    const tenant = await server.admin.ok('PUT', `/apps/${SLUG}/tenants/t${counter}/members/${id}`, { roles: ['user'] });
    const browser = new Browser(server.url);
    const portal = await signIn(rp, browser, email, PASSWORD, { params: { scope: ACCOUNT_SCOPES } });
    const billing = await signIn(other, browser, email, PASSWORD, { params: { scope: 'openid email' } });
    const grants = await call('GET', '/grants', portal.tokens.access_token);
    expect(grants.status).toBe(200);
    const billingGrant = grants.body.find((g: any) => g.client_id === other.clientId);
    expect(billingGrant).toMatchObject({ client_name: 'Billing', scopes: expect.arrayContaining(['openid', 'email']), tenant_id: tenant.tenant_id });

    expect((await call('DELETE', `/grants/${billingGrant.id}`, portal.tokens.access_token)).status).toBe(204);
    await expect(oidc.refreshTokenGrant(other.config, billing.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(other.config, billing.tokens.access_token)).active).toBe(false);
    expect((await oidc.refreshTokenGrant(rp.config, portal.tokens.refresh_token!)).access_token).toBeDefined();
    expect((await call('DELETE', `/grants/${billingGrant.id}`, portal.tokens.access_token)).status).toBe(404);
    const audit = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=grant.revoked&account_id=${id}`)).items;
    expect(audit[0].detail).toMatchObject({ by: 'account', grant: billingGrant.id });
  });

  it('shows the sign-in history with a failed and a successful attempt', async () => {
    const { email } = await person();
    const browser = new Browser(server.url, { 'user-agent': FIREFOX });
    await browser.submit(await open(browser, await rp.begin()), { identifier: email, password: 'wrong password here' }, { action: '/login', stopAt: REDIRECT_URI });
    const { tokens } = await signIn(rp, browser, email, PASSWORD, { params: { scope: ACCOUNT_SCOPES } });
    const history = await call('GET', '/sign-ins', tokens.access_token);
    expect(history.body.map((h: any) => [h.result, h.method, h.reason])).toEqual([['succeeded', 'password', null], ['failed', 'password', 'wrong_password']]);
  });
});

describe('support PIN', () => {
  it('is made by the person and verified by support: valid, not valid, locked after 5 wrong tries', async () => {
    const { id, email } = await person();
    const { tokens } = await signedIn(email);
    const made = await call('POST', '/support-pin', tokens.access_token);
    expect(made.status).toBe(201);
    expect(made.body.pin).toMatch(/^\d{6}$/);
    expect(Date.parse(made.body.expires_at) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    const verify = (pin: unknown) => server.admin.call('POST', `/apps/${SLUG}/accounts/${id}/support-pin/verify`, { pin });

    expect(await verify(made.body.pin)).toEqual({ status: 200, body: { valid: true } });
    const wrong = made.body.pin === '000000' ? '111111' : '000000';
    expect(await verify(wrong)).toEqual({ status: 200, body: { valid: false } });
    // Bad input is a 400 and counts as no try.
    for (const pin of ['12345', '1234567', 'abcdef', 123456, null, ' 12345']) expect((await verify(pin)).status).toBe(400);
    expect((await server.admin.call('POST', `/apps/${SLUG}/accounts/${id}/support-pin/verify`, { pin: '123456', extra: 1 })).status).toBe(400);
    for (let i = 0; i < 4; i++) expect((await verify(wrong)).body).toEqual({ valid: false });
    const locked = await verify(made.body.pin);
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('too_many_requests');

    // Regenerating replaces the PIN (the old one stops working) — checked on another account to avoid the lock.
    const second = await person();
    const signedSecond = await signedIn(second.email);
    const first = (await call('POST', '/support-pin', signedSecond.tokens.access_token)).body.pin;
    const next = (await call('POST', '/support-pin', signedSecond.tokens.access_token)).body.pin;
    const verifySecond = (pin: string) => server.admin.call('POST', `/apps/${SLUG}/accounts/${second.id}/support-pin/verify`, { pin });
    if (first !== next) expect((await verifySecond(first)).body).toEqual({ valid: false });
    expect((await verifySecond(next)).body).toEqual({ valid: true });
    // A PIN of one account never verifies for another.
    expect((await verify(next)).status).toBe(429);
    expect((await server.admin.call('POST', `/apps/${SLUG}/accounts/acc_nobody/support-pin/verify`, { pin: '123456' })).status).toBe(404);

    const types = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=support_pin&account_id=${id}`)).items.map((e: any) => e.type);
    expect(types).toEqual(expect.arrayContaining(['support_pin.created', 'support_pin.verified', 'support_pin.locked']));
    expect(JSON.stringify(await server.admin.ok('GET', `/apps/${SLUG}/audit?account_id=${id}`))).not.toContain(made.body.pin);
  });
});

describe('the OpenAPI document', () => {
  it('documents the account API under its own tag, with its server, scopes and error answers', async () => {
    const doc: any = await (await fetch(`${server.url}/admin/v1/openapi.json`)).json();
    expect(doc.tags).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'account-api' })]));
    const base = '/apps/{slug}/api/account';
    for (const [path, method] of [['/profile', 'get'], ['/profile', 'patch'], ['/sessions', 'get'], ['/sessions/{sid}', 'delete'], ['/grants', 'get'],
      ['/grants/{grant}', 'delete'], ['/sign-ins', 'get'], ['/support-pin', 'post']]) {
      const item = doc.paths[base + path];
      expect(item.servers).toEqual([expect.objectContaining({ url: server.url })]);
      expect(item[method]).toMatchObject({ tags: ['account-api'], responses: expect.objectContaining({ 401: expect.anything(), 403: expect.anything() }) });
    }
    expect(doc.paths[`${base}/profile`].patch.security).toEqual([{ accountToken: ['account:write'] }]);
    expect(doc.paths[`${base}/profile`].patch.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(doc.components.securitySchemes.accountToken.type).toBe('oauth2');
    expect(doc.paths['/apps/{slug}/accounts/{id}/support-pin/verify'].post.tags).toEqual(['accounts']);
  });
});
