/**
 * Sessions and offboarding through the Admin API, end to end: two browsers signed in through the HTML forms by an
 * openid-client relying party, then sessions listed and ended one by one or all at once, the sign-in history, and
 * deactivation, deletion and tenant removal ending access (userinfo, introspection, refresh, prompt=none) at once.
 */
import { Browser } from '../support/browser.js';
import { oidc, open, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { accessState, ENDED, LIVE } from '../support/access-checks.js';

const SLUG = 'offboard';
const PASSWORD = 'velvet-harbor-lantern-1893';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

let server: TestServer;
let rp: Rp;
let counter = 0;

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, SLUG, { grant_types: ['authorization_code', 'refresh_token'] });
});
afterAll(async () => {
  await server.close();
});

async function createAccount(): Promise<{ id: string; email: string }> {
  const email = `person${++counter}@offboard.test`;
  const { id } = await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email, password: PASSWORD, name: 'Person' });
  return { id, email };
}

async function signedIn(email: string, userAgent = FIREFOX) {
  const browser = new Browser(server.url, { 'user-agent': userAgent });
  const { tokens } = await signIn(rp, browser, email, PASSWORD);
  expect(tokens.refresh_token).toBeDefined();
  return { browser, tokens: { access_token: tokens.access_token, refresh_token: tokens.refresh_token }, sid: tokens.claims()!.sid as string };
}

const sessionsOf = (id: string) => server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}/sessions`);

describe('sessions of an account (Admin API)', () => {
  it('lists both browsers with IP, browser, method and client; ending one signs only that one out', async () => {
    const { id, email } = await createAccount();
    const first = await signedIn(email, FIREFOX);
    const second = await signedIn(email, CHROME_MAC);

    const sessions = await sessionsOf(id);
    expect(sessions).toHaveLength(2);
    expect(sessions.map((s: any) => s.browser).sort()).toEqual(['Chrome', 'Firefox']);
    const firefox = sessions.find((s: any) => s.browser === 'Firefox');
    expect(firefox).toMatchObject({ os: 'Linux', method: 'password', amr: ['pwd'], ip: '127.0.0.1', user_agent: FIREFOX, clients: [rp.clientId] });
    expect(Date.parse(firefox.created_at)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(firefox.expires_at)).toBeGreaterThan(Date.now());
    // The session cookie's value is never an id shown here.
    expect(JSON.stringify(sessions)).not.toContain(first.browser.cookieHeader(new URL(`${server.url}/apps/${SLUG}/auth`)).split('=')[1]);

    expect((await server.admin.call('DELETE', `/apps/${SLUG}/accounts/${id}/sessions/${firefox.id}`)).status).toBe(204);
    expect(await accessState(rp, first.browser, first.tokens)).toEqual({ ...ENDED, userinfo: 401 });
    expect(await accessState(rp, second.browser, second.tokens)).toEqual(LIVE);
    expect((await sessionsOf(id)).map((s: any) => s.browser)).toEqual(['Chrome']);

    const audit = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=session.revoked&account_id=${id}`)).items;
    expect(audit[0]).toMatchObject({ type: 'session.revoked', detail: { by: 'admin', session: firefox.id } });
  });

  it('signs out everywhere: every session and token ends', async () => {
    const { id, email } = await createAccount();
    const first = await signedIn(email);
    const second = await signedIn(email, CHROME_MAC);
    expect((await server.admin.call('DELETE', `/apps/${SLUG}/accounts/${id}/sessions`)).status).toBe(204);
    for (const held of [first, second]) expect(await accessState(rp, held.browser, held.tokens)).toEqual(ENDED);
    expect(await sessionsOf(id)).toEqual([]);
    // A new sign-in afterwards works.
    const again = await signedIn(email);
    expect(await accessState(rp, again.browser, again.tokens)).toEqual(LIVE);
  });

  it('ends refresh tokens that outlive the session (offline_access) too', async () => {
    const { id, email } = await createAccount();
    const browser = new Browser(server.url);
    const { tokens } = await signIn(rp, browser, email, PASSWORD, { params: { scope: 'openid email offline_access' } });
    expect(tokens.scope).toContain('offline_access');
    const grants = await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}/grants`);
    expect(grants).toEqual([expect.objectContaining({ client_id: rp.clientId, scopes: expect.arrayContaining(['openid', 'offline_access']) })]);
    await server.admin.ok('DELETE', `/apps/${SLUG}/accounts/${id}/sessions`);
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}/grants`)).toEqual([]);
  });

  it('answers 404 for an unknown account or session, and refuses a key without the accounts scope', async () => {
    const { id } = await createAccount();
    expect((await server.admin.call('GET', `/apps/${SLUG}/accounts/acc_nobody/sessions`)).status).toBe(404);
    expect((await server.admin.call('DELETE', `/apps/${SLUG}/accounts/${id}/sessions/nope`)).status).toBe(404);
    expect((await server.admin.call('POST', `/apps/${SLUG}/accounts/acc_nobody/deactivate`)).status).toBe(404);
    expect((await server.admin.call('GET', `/apps/nowhere/accounts/${id}/sign-ins`)).status).toBe(404);
    const key = await server.admin.ok('POST', '/keys', { name: 'tenants only', scopes: ['tenants:write'], apps: ['*'] });
    const limited = await fetch(`${server.url}/admin/v1/apps/${SLUG}/accounts/${id}/sessions`, { method: 'DELETE', headers: { authorization: `Bearer ${key.secret}` } });
    expect(limited.status).toBe(403);
  });
});

describe('sign-in history', () => {
  it('lists a failed and a successful attempt, newest first, with method, reason, IP and browser', async () => {
    const { id, email } = await createAccount();
    const browser = new Browser(server.url, { 'user-agent': FIREFOX });
    const page = await open(browser, await rp.begin());
    const refused = await browser.submit(page, { identifier: email, password: 'not the password' }, { action: '/login', stopAt: REDIRECT_URI });
    expect(refused.html).toContain('Invalid email or password');
    await signIn(rp, browser, email, PASSWORD);

    const history = await server.admin.ok('GET', `/apps/${SLUG}/accounts/${id}/sign-ins`);
    expect(history).toEqual([
      expect.objectContaining({ result: 'succeeded', method: 'password', reason: null, ip: '127.0.0.1', browser: 'Firefox', os: 'Linux', client_id: rp.clientId }),
      expect.objectContaining({ result: 'failed', method: 'password', reason: 'wrong_password', ip: '127.0.0.1', browser: 'Firefox' }),
    ]);
    // An unknown email is recorded against no account.
    const other = await createAccount();
    await browser.submit(await open(browser, await rp.begin({ prompt: 'login' })), { identifier: 'nobody@offboard.test', password: 'x' }, { action: '/login', stopAt: REDIRECT_URI });
    expect(await server.admin.ok('GET', `/apps/${SLUG}/accounts/${other.id}/sign-ins`)).toEqual([]);
  });
});

describe('deactivate, reactivate, delete', () => {
  it('deactivation ends all access within a second; reactivation lets the person sign in again', async () => {
    const { id, email } = await createAccount();
    const held = await signedIn(email);
    const started = Date.now();
    const account = await server.admin.ok('POST', `/apps/${SLUG}/accounts/${id}/deactivate`);
    expect(account.status).toBe('deactivated');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await accessState(rp, held.browser, held.tokens)).toEqual(ENDED);
    expect(await sessionsOf(id)).toEqual([]);
    // Deactivated: the password no longer signs in.
    const browser = new Browser(server.url);
    const refused = await browser.submit(await open(browser, await rp.begin()), { identifier: email, password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
    expect(refused.url.startsWith(REDIRECT_URI)).toBe(false);

    expect((await server.admin.ok('POST', `/apps/${SLUG}/accounts/${id}/reactivate`)).status).toBe('active');
    const again = await signedIn(email);
    expect(await accessState(rp, again.browser, again.tokens)).toEqual(LIVE);
    // The old tokens stay ended.
    expect(await accessState(rp, held.browser, held.tokens)).toMatchObject({ userinfo: 401, introspectionActive: false, refresh: 'invalid_grant' });

    const types = (await server.admin.ok('GET', `/apps/${SLUG}/audit?account_id=${id}`)).items.map((e: any) => e.type);
    expect(types).toEqual(expect.arrayContaining(['account.deactivated', 'account.reactivated']));
  });

  it('a PATCH of status to deactivated ends access the same way', async () => {
    const { id, email } = await createAccount();
    const held = await signedIn(email);
    await server.admin.ok('PATCH', `/apps/${SLUG}/accounts/${id}`, { status: 'deactivated' });
    expect(await accessState(rp, held.browser, held.tokens)).toEqual(ENDED);
  });

  it('deleting ends access, erases the account and its factors, and keeps a tombstone in the audit log', async () => {
    const { id, email } = await createAccount();
    const held = await signedIn(email);
    const invitation = await server.admin.ok('POST', `/apps/${SLUG}/invitations`, { email });
    expect((await server.admin.call('DELETE', `/apps/${SLUG}/accounts/${id}`)).status).toBe(204);
    expect(await accessState(rp, held.browser, held.tokens)).toEqual(ENDED);
    expect((await server.admin.call('GET', `/apps/${SLUG}/accounts/${id}`)).status).toBe(404);
    expect(await server.admin.ok('GET', `/apps/${SLUG}/accounts?email=${encodeURIComponent(email)}`)).toEqual([]);
    const tombstone = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=account.deleted&account_id=${id}`)).items;
    expect(tombstone).toEqual([expect.objectContaining({ type: 'account.deleted', account_id: id })]);
    expect(JSON.stringify(tombstone)).not.toContain(email);
    const left = await server.admin.call('GET', `/apps/${SLUG}/invitations/${invitation.id}`);
    expect(left.status).toBe(200);
    expect(left.body.status).toBe('revoked');
    expect(JSON.stringify(left.body)).not.toContain(email);
    expect((await server.admin.call('DELETE', `/apps/${SLUG}/accounts/${id}`)).status).toBe(404);
  });
});

describe('removing a tenant member', () => {
  it('revokes the grants issued for that tenant, and leaves the others', async () => {
    const { id, email } = await createAccount();
    const [acme, globex] = [`acme-${counter}`, `globex-${counter}`];
    for (const slug of [acme, globex]) {
      await server.admin.ok('POST', `/apps/${SLUG}/tenants`, { slug, name: slug });
      await server.admin.ok('PUT', `/apps/${SLUG}/tenants/${slug}/members/${id}`, { roles: ['user'] });
    }
    const inAcme = await signIn(rp, new Browser(server.url), email, PASSWORD, { params: { tenant: acme } });
    const inGlobex = await signIn(rp, new Browser(server.url), email, PASSWORD, { params: { tenant: globex } });
    expect(inAcme.tokens.claims()!.tenant_slug).toBe(acme);

    await server.admin.ok('DELETE', `/apps/${SLUG}/tenants/${acme}/members/${id}`);
    await expect(oidc.refreshTokenGrant(rp.config, inAcme.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(rp.config, inAcme.tokens.access_token)).active).toBe(false);
    const refreshed = await oidc.refreshTokenGrant(rp.config, inGlobex.tokens.refresh_token!);
    expect(refreshed.claims()!.tenant_slug).toBe(globex);
    const removal = (await server.admin.ok('GET', `/apps/${SLUG}/audit?type=membership.removed&account_id=${id}`)).items[0];
    expect(removal.detail).toMatchObject({ grants_revoked: 1 });
  });
});
