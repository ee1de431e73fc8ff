/**
 * The Admin API against a running server: authentication, every resource's lifecycle, and hostile or malformed
 * input (validation, content types, sizes, odd Unicode), which must always end in a clean 4xx and never a 500.
 */
import { ADMIN_KEY, startServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

interface RawResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** A request with full control over headers and body, parsed as JSON when it is JSON. */
async function raw(method: string, path: string, init: { headers?: Record<string, string>; body?: RequestInit['body'] } = {}): Promise<RawResponse> {
  const res = await fetch(`${server.url}/admin/v1${path}`, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, body: isJson && text ? JSON.parse(text) : text };
}

const authorized = (headers: Record<string, string> = {}) => ({ authorization: `Bearer ${ADMIN_KEY}`, ...headers });
const json = { 'content-type': 'application/json' };

let counter = 0;
/** A fresh, unique app slug per test so tests never depend on each other. */
const uniqueSlug = (prefix: string) => `${prefix}-${++counter}-${Date.now().toString(36)}`;

async function createApp(prefix = 'app', extra: Record<string, unknown> = {}): Promise<string> {
  const slug = uniqueSlug(prefix);
  await server.admin.ok('POST', '/apps', { slug, name: `App ${slug}`, ...extra });
  return slug;
}

async function createAccount(slug: string, body: Record<string, unknown>): Promise<any> {
  return server.admin.ok('POST', `/apps/${slug}/accounts`, body);
}

/** The field paths named by a 400 answer. */
function fieldPaths(body: any): string[] {
  return (body?.fields ?? []).map((f: { path: string }) => f.path);
}

function expectInvalid(res: { status: number; body: any }, ...paths: string[]): void {
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('invalid_request');
  expect(typeof res.body.error_description).toBe('string');
  for (const path of paths) expect(fieldPaths(res.body)).toContain(path);
}

async function expectHealthy(): Promise<void> {
  const res = await fetch(`${server.url}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
}

/** client_credentials at the app's token endpoint with HTTP Basic client authentication (RFC 6749 §2.3.1). */
async function clientCredentialsToken(slug: string, clientId: string, secret: string): Promise<{ status: number; body: any }> {
  const discovery = (await (await fetch(`${server.url}/apps/${slug}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  return { status: res.status, body: await res.json() };
}

describe('Admin API authentication', () => {
  const unauthorizedCases: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a wrong key', { authorization: 'Bearer not-the-admin-key' }],
    ['the right key with the Basic scheme', { authorization: `Basic ${ADMIN_KEY}` }],
    ['the right key without a scheme', { authorization: ADMIN_KEY }],
    ['a Bearer scheme without a token', { authorization: 'Bearer ' }],
    ['the key with a suffix', { authorization: `Bearer ${ADMIN_KEY}x` }],
    ['a prefix of the key', { authorization: `Bearer ${ADMIN_KEY.slice(0, -1)}` }],
  ];

  it.each(unauthorizedCases)('answers 401 with a JSON error and WWW-Authenticate for %s', async (_name, headers) => {
    const res = await raw('GET', '/apps', { headers });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect(res.body).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
  });

  it('refuses writes without the key and creates nothing', async () => {
    const slug = uniqueSlug('unauth');
    const res = await raw('POST', '/apps', { headers: json, body: JSON.stringify({ slug, name: 'Nope' }) });
    expect(res.status).toBe(401);
    expect((await server.admin.call('GET', `/apps/${slug}`)).status).toBe(404);
  });

  it('accepts the right key (and a lower-case bearer scheme)', async () => {
    expect((await raw('GET', '/apps', { headers: authorized() })).status).toBe(200);
    expect((await raw('GET', '/apps', { headers: { authorization: `bearer ${ADMIN_KEY}` } })).status).toBe(200);
  });
});

describe('Admin API routing errors', () => {
  it('answers an unknown route with a JSON 404', async () => {
    const res = await raw('GET', '/no-such-route', { headers: authorized() });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', error_description: expect.any(String) });
  });

  it('answers a wrong method with a JSON 405 and the Allow header', async () => {
    const res = await raw('PUT', '/apps', { headers: authorized(json), body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toMatch(/GET/);
    expect(res.headers.get('allow')).toMatch(/POST/);
    expect(res.body).toEqual({ error: 'method_not_allowed', error_description: expect.any(String) });
  });
});

describe('apps', () => {
  it('creates an app (201) with its issuer and default settings, lists it and gets it', async () => {
    const slug = uniqueSlug('apps');
    const created = await server.admin.call('POST', '/apps', { slug, name: 'Client Portal' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ slug, name: 'Client Portal', issuer: `${server.url}/apps/${slug}` });
    expect(created.body.settings).toMatchObject({ login_methods: ['password', 'email_code'], registration: 'invite_only', accounts_per_email: 'one' });

    const list = await server.admin.ok('GET', '/apps');
    expect(list.map((a: any) => a.slug)).toContain(slug);
    expect(await server.admin.ok('GET', `/apps/${slug}`)).toEqual(created.body);
  });

  it('PATCH changes the name and merges partial settings, keeping the others', async () => {
    const slug = await createApp('patch', { settings: { login_methods: ['password'] } });
    const renamed = await server.admin.ok('PATCH', `/apps/${slug}`, { name: 'Renamed' });
    expect(renamed.name).toBe('Renamed');
    expect(renamed.settings.login_methods).toEqual(['password']);

    const patched = await server.admin.ok('PATCH', `/apps/${slug}`, { settings: { registration: 'open' } });
    expect(patched.settings.registration).toBe('open');
    expect(patched.settings.login_methods).toEqual(['password']);
    expect(patched.name).toBe('Renamed');
    expect((await server.admin.ok('GET', `/apps/${slug}`)).settings).toEqual(patched.settings);
  });

  it('rejects a duplicate slug with 409', async () => {
    const slug = await createApp('dup');
    const again = await server.admin.call('POST', '/apps', { slug, name: 'Again' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('conflict');
  });

  it('DELETE answers 204, then the app, its issuer and its resources are gone (404)', async () => {
    const slug = await createApp('del');
    const account = await createAccount(slug, { email: 'gone@example.com' });
    const res = await raw('DELETE', `/apps/${slug}`, { headers: authorized() });
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    expect((await server.admin.call('GET', `/apps/${slug}`)).status).toBe(404);
    expect((await server.admin.call('GET', `/apps/${slug}/accounts/${account.id}`)).status).toBe(404);
    expect((await server.admin.call('DELETE', `/apps/${slug}`)).status).toBe(404);
    expect((await fetch(`${server.url}/apps/${slug}/.well-known/openid-configuration`)).status).toBe(404);
  });

  it('answers 404 with a JSON error for an unknown app on every kind of request', async () => {
    for (const [method, path, body] of [
      ['GET', '/apps/no-such-app', undefined],
      ['PATCH', '/apps/no-such-app', { name: 'x' }],
      ['DELETE', '/apps/no-such-app', undefined],
      ['GET', '/apps/no-such-app/clients', undefined],
      ['POST', '/apps/no-such-app/accounts', { email: 'a@example.com' }],
      ['GET', '/apps/no-such-app/tenants', undefined],
    ] as const) {
      const res = await server.admin.call(method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(res.body).toEqual({ error: 'not_found', error_description: expect.any(String) });
    }
  });
});

describe('clients', () => {
  let slug: string;
  beforeAll(async () => {
    slug = await createApp('clients');
  });

  const confidential = { name: 'Portal', redirect_uris: ['https://portal.example.test/cb'], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] };

  it('shows the client secret only in the creation answer', async () => {
    const created = await server.admin.call('POST', `/apps/${slug}/clients`, confidential);
    expect(created.status).toBe(201);
    expect(created.body.client_id).toEqual(expect.any(String));
    expect(created.body.client_secret).toEqual(expect.any(String));
    expect(created.body.token_endpoint_auth_method).toBe('client_secret_basic');

    const one = await server.admin.ok('GET', `/apps/${slug}/clients/${created.body.client_id}`);
    expect(one.client_secret).toBeUndefined();
    expect(JSON.stringify(one)).not.toContain(created.body.client_secret);
    const list = await server.admin.ok('GET', `/apps/${slug}/clients`);
    expect(list.map((c: any) => c.client_id)).toContain(created.body.client_id);
    expect(JSON.stringify(list)).not.toContain(created.body.client_secret);
  });

  it('rotates the secret: the new one works at the token endpoint and the old one no longer does', async () => {
    const created = await server.admin.ok('POST', `/apps/${slug}/clients`, confidential);
    const before = await clientCredentialsToken(slug, created.client_id, created.client_secret);
    expect(before.status).toBe(200);
    expect(before.body.access_token).toEqual(expect.any(String));

    const rotated = await server.admin.call('POST', `/apps/${slug}/clients/${created.client_id}/secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.client_id).toBe(created.client_id);
    expect(rotated.body.client_secret).toEqual(expect.any(String));
    expect(rotated.body.client_secret).not.toBe(created.client_secret);

    const old = await clientCredentialsToken(slug, created.client_id, created.client_secret);
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('invalid_client');
    const fresh = await clientCredentialsToken(slug, created.client_id, rotated.body.client_secret);
    expect(fresh.status).toBe(200);
    expect(fresh.body.access_token).toEqual(expect.any(String));
  });

  it('creates a public client without a secret, and refuses to rotate a secret it does not have', async () => {
    const created = await server.admin.call('POST', `/apps/${slug}/clients`, { name: 'SPA', redirect_uris: ['https://spa.example.test/cb'], token_endpoint_auth_method: 'none' });
    expect(created.status).toBe(201);
    expect(created.body.token_endpoint_auth_method).toBe('none');
    expect(created.body.require_pkce).toBe(true);
    expect('client_secret' in created.body).toBe(false);
    const rotate = await server.admin.call('POST', `/apps/${slug}/clients/${created.body.client_id}/secret`);
    expect(rotate.status).toBe(400);
    expect(rotate.body.error).toBe('invalid_request');
  });

  it('refuses client_credentials or disabled PKCE for a public client', async () => {
    const base = { name: 'SPA', redirect_uris: ['https://spa.example.test/cb'], token_endpoint_auth_method: 'none' };
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { ...base, grant_types: ['client_credentials'] }), 'grant_types');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { ...base, require_pkce: false }), 'require_pkce');
  });

  it('PATCH changes the given fields only', async () => {
    const created = await server.admin.ok('POST', `/apps/${slug}/clients`, confidential);
    const patched = await server.admin.ok('PATCH', `/apps/${slug}/clients/${created.client_id}`, { name: 'Renamed portal', redirect_uris: ['https://portal.example.test/new'] });
    expect(patched).toMatchObject({ client_id: created.client_id, name: 'Renamed portal', redirect_uris: ['https://portal.example.test/new'], grant_types: confidential.grant_types });
    expect(patched.client_secret).toBeUndefined();
    expect(await server.admin.ok('GET', `/apps/${slug}/clients/${created.client_id}`)).toEqual(patched);
    // The auth method is fixed at creation.
    expectInvalid(await server.admin.call('PATCH', `/apps/${slug}/clients/${created.client_id}`, { token_endpoint_auth_method: 'none' }));
  });

  it('DELETE answers 204, then 404, and the deleted client can no longer get tokens', async () => {
    const created = await server.admin.ok('POST', `/apps/${slug}/clients`, confidential);
    expect((await server.admin.call('DELETE', `/apps/${slug}/clients/${created.client_id}`)).status).toBe(204);
    expect((await server.admin.call('GET', `/apps/${slug}/clients/${created.client_id}`)).status).toBe(404);
    expect((await server.admin.call('DELETE', `/apps/${slug}/clients/${created.client_id}`)).status).toBe(404);
    expect((await clientCredentialsToken(slug, created.client_id, created.client_secret)).status).toBe(401);
  });

  it('answers 404 for an unknown client on every route', async () => {
    for (const [method, path, body] of [
      ['GET', '/clients/nope', undefined],
      ['PATCH', '/clients/nope', { name: 'x' }],
      ['DELETE', '/clients/nope', undefined],
      ['POST', '/clients/nope/secret', undefined],
    ] as const) {
      const res = await server.admin.call(method, `/apps/${slug}${path}`, body);
      expect([method, path, res.status, res.body.error]).toEqual([method, path, 404, 'not_found']);
    }
  });

  it('keeps clients of one app invisible from another app', async () => {
    const other = await createApp('clients-other');
    const created = await server.admin.ok('POST', `/apps/${slug}/clients`, confidential);
    expect((await server.admin.call('GET', `/apps/${other}/clients/${created.client_id}`)).status).toBe(404);
    // The other app holds only the account center client it was created with.
    expect((await server.admin.ok('GET', `/apps/${other}/clients`)).map((c: any) => c.name)).toEqual(['Account center']);
  });
});

describe('accounts', () => {
  let slug: string;
  beforeAll(async () => {
    slug = await createApp('accounts');
  });

  it('creates an account with a normalised email, never returning the password or its hash', async () => {
    const created = await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'Grace.Hopper@Example.COM', password: 'a long enough password', name: 'Grace' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(String), email: 'grace.hopper@example.com', name: 'Grace', has_password: true, email_verified: false, status: 'active' });
    for (const body of [created.body, await server.admin.ok('GET', `/apps/${slug}/accounts/${created.body.id}`), await server.admin.ok('GET', `/apps/${slug}/accounts`)]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain('a long enough password');
      expect(text).not.toMatch(/argon2|\$argon|password_hash|passwordHash/);
    }
  });

  it('refuses a breached or common password with a 400 naming the field', async () => {
    for (const body of [{ email: `c${++counter}@example.com`, password: 'password123' }, { email: `c${++counter}@example.com`, password: 'Qwerty123' }]) {
      const res = await server.admin.call('POST', `/apps/${slug}/accounts`, body);
      expect(res.status).toBe(400);
      expect(res.body.fields).toEqual([{ path: 'password', message: expect.stringContaining('too common') }]);
    }
  });

  it('reports has_password false without a password and after removing it', async () => {
    const bare = await createAccount(slug, { email: 'nopass@example.com' });
    expect(bare.has_password).toBe(false);
    const withPassword = await server.admin.ok('PATCH', `/apps/${slug}/accounts/${bare.id}`, { password: 'now I have one!' });
    expect(withPassword.has_password).toBe(true);
    const removed = await server.admin.ok('PATCH', `/apps/${slug}/accounts/${bare.id}`, { password: null });
    expect(removed.has_password).toBe(false);
  });

  it('rejects a duplicate email (in any case) with 409', async () => {
    await createAccount(slug, { email: 'dup@example.com' });
    const again = await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'DUP@example.com' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('conflict');
  });

  it('filters the list by email, normalising the filter; an unknown email matches nothing', async () => {
    const account = await createAccount(slug, { email: 'findme@example.com' });
    await createAccount(slug, { email: 'other@example.com' });
    const found = await server.admin.ok('GET', `/apps/${slug}/accounts?email=${encodeURIComponent('FindMe@Example.com')}`);
    expect(found.map((a: any) => a.id)).toEqual([account.id]);
    expect(await server.admin.ok('GET', `/apps/${slug}/accounts?email=nobody%40example.com`)).toEqual([]);
  });

  it('pages the list with limit and after', async () => {
    const app = await createApp('paging');
    for (let i = 0; i < 5; i++) await createAccount(app, { email: `p${i}@example.com` });
    const all = await server.admin.ok('GET', `/apps/${app}/accounts`);
    expect(all).toHaveLength(5);
    const first = await server.admin.ok('GET', `/apps/${app}/accounts?limit=2`);
    expect(first.map((a: any) => a.id)).toEqual(all.slice(0, 2).map((a: any) => a.id));
    expectInvalid(await server.admin.call('GET', `/apps/${app}/accounts?limit=0`), 'limit');
    expectInvalid(await server.admin.call('GET', `/apps/${app}/accounts?limit=501`), 'limit');
    expectInvalid(await server.admin.call('GET', `/apps/${app}/accounts?limit=abc`), 'limit');
  });

  it('walking the pages with after visits every account exactly once, in list order', async () => {
    // Ids are random base64url (upper and lower case, '-' and '_'): with 20 of them the order used for sorting and
    // the comparison used by `after` must agree, or pages skip and repeat accounts.
    const app = await createApp('walk');
    for (let i = 0; i < 20; i++) await createAccount(app, { email: `walk${i}@example.com` });
    const all = (await server.admin.ok('GET', `/apps/${app}/accounts`)).map((a: any) => a.id);
    const walked: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 30; page++) {
      const batch = await server.admin.ok('GET', `/apps/${app}/accounts?limit=1${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      if (batch.length === 0) break;
      walked.push(batch[0].id);
      after = batch[0].id;
    }
    expect(walked).toEqual(all);
  });

  it('PATCH changes fields, normalises a new email and resets its verification', async () => {
    const account = await createAccount(slug, { email: 'patch@example.com', email_verified: true });
    const patched = await server.admin.ok('PATCH', `/apps/${slug}/accounts/${account.id}`, { name: 'Patched', status: 'deactivated', email: 'New.Patch@Example.com' });
    expect(patched).toMatchObject({ id: account.id, name: 'Patched', status: 'deactivated', email: 'new.patch@example.com', email_verified: false });
    expect(await server.admin.ok('GET', `/apps/${slug}/accounts/${account.id}`)).toEqual(patched);
  });

  it('PATCH to an email another account has answers 409', async () => {
    await createAccount(slug, { email: 'taken@example.com' });
    const account = await createAccount(slug, { email: 'free@example.com' });
    const res = await server.admin.call('PATCH', `/apps/${slug}/accounts/${account.id}`, { email: 'Taken@example.com' });
    expect(res.status).toBe(409);
    expect((await server.admin.ok('GET', `/apps/${slug}/accounts/${account.id}`)).email).toBe('free@example.com');
  });

  it('DELETE answers 204, then 404', async () => {
    const account = await createAccount(slug, { email: 'delete-me@example.com' });
    expect((await server.admin.call('DELETE', `/apps/${slug}/accounts/${account.id}`)).status).toBe(204);
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await server.admin.call(method, `/apps/${slug}/accounts/${account.id}`);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('not_found');
    }
    expect((await server.admin.call('PATCH', `/apps/${slug}/accounts/${account.id}`, { name: 'x' })).status).toBe(404);
  });

  it('creates an account with a phone number only', async () => {
    const account = await createAccount(slug, { phone_number: '+14155550123' });
    expect(account).toMatchObject({ email: null, phone_number: '+14155550123', phone_number_verified: false });
  });
});

describe('tenants and memberships', () => {
  let slug: string;
  beforeAll(async () => {
    slug = await createApp('tenants');
  });

  it('creates a tenant and reads, changes and deletes it by slug or by id', async () => {
    const created = await server.admin.call('POST', `/apps/${slug}/tenants`, { slug: 'acme', name: 'Acme Inc.' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(String), slug: 'acme', name: 'Acme Inc.' });
    const { id } = created.body;
    expect(await server.admin.ok('GET', `/apps/${slug}/tenants/acme`)).toEqual(created.body);
    expect(await server.admin.ok('GET', `/apps/${slug}/tenants/${id}`)).toEqual(created.body);
    expect((await server.admin.ok('GET', `/apps/${slug}/tenants`)).map((t: any) => t.id)).toContain(id);

    const renamed = await server.admin.ok('PATCH', `/apps/${slug}/tenants/acme`, { name: 'Acme Corp' });
    expect(renamed).toMatchObject({ id, slug: 'acme', name: 'Acme Corp' });
    const reslugged = await server.admin.ok('PATCH', `/apps/${slug}/tenants/${id}`, { slug: 'acme-corp' });
    expect(reslugged).toMatchObject({ id, slug: 'acme-corp', name: 'Acme Corp' });
    expect((await server.admin.call('GET', `/apps/${slug}/tenants/acme`)).status).toBe(404);

    expect((await server.admin.call('DELETE', `/apps/${slug}/tenants/acme-corp`)).status).toBe(204);
    expect((await server.admin.call('GET', `/apps/${slug}/tenants/${id}`)).status).toBe(404);
    expect((await server.admin.call('DELETE', `/apps/${slug}/tenants/${id}`)).status).toBe(404);
  });

  it('rejects a duplicate tenant slug with 409, on create and on rename', async () => {
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'dup-tenant', name: 'One' });
    const again = await server.admin.call('POST', `/apps/${slug}/tenants`, { slug: 'dup-tenant', name: 'Two' });
    expect(again.status).toBe(409);
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'other-tenant', name: 'Other' });
    const rename = await server.admin.call('PATCH', `/apps/${slug}/tenants/other-tenant`, { slug: 'dup-tenant' });
    expect(rename.status).toBe(409);
  });

  it('allows the same tenant slug in two different apps', async () => {
    const other = await createApp('tenants-other');
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'shared', name: 'Shared A' });
    const res = await server.admin.call('POST', `/apps/${other}/tenants`, { slug: 'shared', name: 'Shared B' });
    expect(res.status).toBe(201);
  });

  it('puts members with roles, lists them, replaces roles and removes a member', async () => {
    const tenant = await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'team', name: 'Team' });
    const ada = await createAccount(slug, { email: 'ada-member@example.com' });
    const bob = await createAccount(slug, { email: 'bob-member@example.com' });

    const put = await server.admin.call('PUT', `/apps/${slug}/tenants/team/members/${ada.id}`, { roles: ['admin', 'billing', 'admin'] });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ account_id: ada.id, tenant_id: tenant.id, roles: ['admin', 'billing'] });
    await server.admin.ok('PUT', `/apps/${slug}/tenants/${tenant.id}/members/${bob.id}`, { roles: [] });

    const members = await server.admin.ok('GET', `/apps/${slug}/tenants/team/members`);
    expect(members.map((m: any) => [m.account_id, m.roles])).toEqual([[ada.id, ['admin', 'billing']], [bob.id, []]]);

    await server.admin.ok('PUT', `/apps/${slug}/tenants/team/members/${ada.id}`, { roles: ['viewer'] });
    const tenantsOfAda = await server.admin.ok('GET', `/apps/${slug}/accounts/${ada.id}/tenants`);
    expect(tenantsOfAda).toEqual([expect.objectContaining({ id: tenant.id, slug: 'team', roles: ['viewer'] })]);

    expect((await server.admin.call('DELETE', `/apps/${slug}/tenants/team/members/${bob.id}`)).status).toBe(204);
    expect((await server.admin.call('DELETE', `/apps/${slug}/tenants/team/members/${bob.id}`)).status).toBe(404);
    expect((await server.admin.ok('GET', `/apps/${slug}/tenants/team/members`)).map((m: any) => m.account_id)).toEqual([ada.id]);
  });

  it('answers 404 when putting an unknown account, or an account of another app, into a tenant', async () => {
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'strangers', name: 'Strangers' });
    const unknown = await server.admin.call('PUT', `/apps/${slug}/tenants/strangers/members/acc_nope`, { roles: ['admin'] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('not_found');
    const other = await createApp('tenants-foreign');
    const foreigner = await createAccount(other, { email: 'foreigner@example.com' });
    expect((await server.admin.call('PUT', `/apps/${slug}/tenants/strangers/members/${foreigner.id}`, { roles: [] })).status).toBe(404);
    expect(await server.admin.ok('GET', `/apps/${slug}/tenants/strangers/members`)).toEqual([]);
  });

  it('deleting a tenant removes its memberships; deleting an account removes its memberships', async () => {
    const tenant = await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'doomed', name: 'Doomed' });
    const keeper = await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'keeper', name: 'Keeper' });
    const account = await createAccount(slug, { email: 'member-of-doomed@example.com' });
    const leaver = await createAccount(slug, { email: 'leaver@example.com' });
    await server.admin.ok('PUT', `/apps/${slug}/tenants/doomed/members/${account.id}`, { roles: ['owner'] });
    await server.admin.ok('PUT', `/apps/${slug}/tenants/keeper/members/${account.id}`, { roles: ['user'] });
    await server.admin.ok('PUT', `/apps/${slug}/tenants/keeper/members/${leaver.id}`, { roles: ['user'] });

    expect((await server.admin.call('DELETE', `/apps/${slug}/tenants/doomed`)).status).toBe(204);
    const remaining = await server.admin.ok('GET', `/apps/${slug}/accounts/${account.id}/tenants`);
    expect(remaining.map((t: any) => t.id)).toEqual([keeper.id]);
    expect(remaining.map((t: any) => t.id)).not.toContain(tenant.id);

    // A new tenant reusing the slug starts empty.
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'doomed', name: 'Reborn' });
    expect(await server.admin.ok('GET', `/apps/${slug}/tenants/doomed/members`)).toEqual([]);

    await server.admin.ok('DELETE', `/apps/${slug}/accounts/${leaver.id}`);
    expect((await server.admin.ok('GET', `/apps/${slug}/tenants/keeper/members`)).map((m: any) => m.account_id)).toEqual([account.id]);
  });

  it('answers 404 for an unknown tenant on every route', async () => {
    const account = await createAccount(slug, { email: 'tenantless@example.com' });
    for (const [method, path, body] of [
      ['GET', '/tenants/nope', undefined],
      ['PATCH', '/tenants/nope', { name: 'x' }],
      ['DELETE', '/tenants/nope', undefined],
      ['GET', '/tenants/nope/members', undefined],
      ['PUT', `/tenants/nope/members/${account.id}`, { roles: [] }],
      ['DELETE', `/tenants/nope/members/${account.id}`, undefined],
    ] as const) {
      const res = await server.admin.call(method, `/apps/${slug}${path}`, body);
      expect([method, path, res.status, res.body.error]).toEqual([method, path, 404, 'not_found']);
    }
  });
});

describe('validation', () => {
  let slug: string;
  beforeAll(async () => {
    slug = await createApp('validation');
  });

  it('names each invalid field of an app', async () => {
    expectInvalid(await server.admin.call('POST', '/apps', { slug: 'Not A Slug!', name: 'x' }), 'slug');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: '-leading-dash', name: 'x' }), 'slug');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: 'a'.repeat(64), name: 'x' }), 'slug');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: uniqueSlug('v') }), 'name');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: uniqueSlug('v'), name: '   ' }), 'name');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: uniqueSlug('v'), name: 'x', settings: { login_methods: [] } }), 'settings.login_methods');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: uniqueSlug('v'), name: 'x', settings: { login_methods: ['telepathy'] } }), 'settings.login_methods.0');
    expectInvalid(await server.admin.call('PATCH', `/apps/${slug}`, { settings: { login_methods: ['password', 'password'] } }), 'settings.login_methods');
    expectInvalid(await server.admin.call('PATCH', `/apps/${slug}`, { settings: { registration: 'sometimes' } }), 'settings.registration');
  });

  it('names each invalid field of a client', async () => {
    const base = { name: 'Portal', redirect_uris: ['https://portal.example.test/cb'] };
    for (const uri of ['not a url', 'https://portal.example.test/cb#fragment', 'https://*.example.test/cb', 'javascript:alert(1)', 'data:text/html,hi']) {
      expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { ...base, redirect_uris: [uri] }), 'redirect_uris.0');
    }
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { ...base, redirect_uris: ['https://ok.example.test/cb', 'nope'] }), 'redirect_uris.1');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { ...base, redirect_uris: [] }), 'redirect_uris');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { ...base, grant_types: ['implicit'] }), 'grant_types.0');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { ...base, token_endpoint_auth_method: 'private_key_jwt' }), 'token_endpoint_auth_method');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { ...base, initiate_login_uri: 'ftp://x.example.test/' }), 'initiate_login_uri');
  });

  it('names each invalid field of an account', async () => {
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'not-an-email' }), 'email');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, {}), 'email');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'short@example.com', password: 'short' }), 'password');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'long@example.com', password: 'x'.repeat(129) }), 'password');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { phone_number: '0123' }), 'phone_number');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'l@example.com', locale: 'english' }), 'locale');
    const account = await createAccount(slug, { email: 'valid@example.com' });
    expectInvalid(await server.admin.call('PATCH', `/apps/${slug}/accounts/${account.id}`, { status: 'banned' }), 'status');
  });

  it('counts password length in code points, so 8 emoji are a valid password', async () => {
    const account = await createAccount(slug, { email: 'emoji-pass@example.com', password: '🔒'.repeat(8) });
    expect(account.has_password).toBe(true);
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'emoji-short@example.com', password: '🔒'.repeat(7) }), 'password');
  });

  it('names invalid tenant and membership fields', async () => {
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/tenants`, { slug: 'UPPER', name: 'x' }), 'slug');
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'valid-tenant', name: 'Valid' });
    const account = await createAccount(slug, { email: 'roles@example.com' });
    const path = `/apps/${slug}/tenants/valid-tenant/members/${account.id}`;
    expectInvalid(await server.admin.call('PUT', path, { roles: ['has space'] }), 'roles.0');
    expectInvalid(await server.admin.call('PUT', path, { roles: 'admin' }), 'roles');
    expectInvalid(await server.admin.call('PUT', path, {}), 'roles');
  });

  it('rejects unknown extra fields (strict objects), naming each at its own path', async () => {
    expectInvalid(await server.admin.call('POST', '/apps', { slug: uniqueSlug('strict'), name: 'x', admin: true, owner: 'me' }), 'admin', 'owner');
    expectInvalid(await server.admin.call('PATCH', `/apps/${slug}`, { settings: { registration: 'open', extra: 1 } }), 'settings.extra');
    expectInvalid(await server.admin.call('PATCH', `/apps/${slug}`, { settings: { messaging: { mode: 'deliver', host: 'smtp.evil.test' } } }), 'settings.messaging.host');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'strict@example.com', passwordHash: '$argon2id$...' }), 'passwordHash');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'strict@example.com', status: 'active' }), 'status');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { name: 'x', redirect_uris: ['https://x.example.test/cb'], client_secret: 'chosen' }), 'client_secret');
    expect((await server.admin.call('GET', `/apps/${slug}/accounts?email=strict%40example.com`)).body).toEqual([]);
    expect((await server.admin.ok('GET', `/apps/${slug}`)).settings.registration).not.toBe('open');
  });

  it('rejects __proto__ and constructor keys instead of merging them', async () => {
    const res = await server.admin.call('POST', '/apps', `{"slug":"${uniqueSlug('proto')}","name":"x","__proto__":{"polluted":true}}`);
    expectInvalid(res, '__proto__');
    expect(({} as any).polluted).toBeUndefined();
    expectInvalid(await server.admin.call('PATCH', `/apps/${slug}`, '{"settings":{"constructor":{"prototype":{"polluted":true}}}}'));
    expect(({} as any).polluted).toBeUndefined();
  });

  it('rejects wrong types, naming the field', async () => {
    expectInvalid(await server.admin.call('POST', '/apps', { slug: 123, name: 'x' }), 'slug');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: uniqueSlug('t'), name: ['x'] }), 'name');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { name: 'x', redirect_uris: 'https://x.example.test/cb' }), 'redirect_uris');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/clients`, { name: 'x', redirect_uris: ['https://x.example.test/cb'], first_party: 'true' }), 'first_party');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'types@example.com', email_verified: 1 }), 'email_verified');
    expectInvalid(await server.admin.call('PATCH', `/apps/${slug}`, { settings: { session_ttl_seconds: '3600' } }), 'settings.session_ttl_seconds');
  });

  it('rejects bodies that are not a JSON object', async () => {
    for (const body of ['null', '[]', '"a string"', '42', 'true']) {
      const res = await server.admin.call('POST', '/apps', body);
      expect([body, res.status]).toEqual([body, 400]);
      expect(res.body.error).toBe('invalid_request');
    }
  });

  it('rejects operator objects such as {"$gt": ""} in place of strings in bodies', async () => {
    const victim = await createAccount(slug, { email: 'victim@example.com' });
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: { $gt: '' } }), 'email');
    expectInvalid(await server.admin.call('PATCH', `/apps/${slug}/accounts/${victim.id}`, { email: { $ne: null } }), 'email');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/tenants`, { slug: { $regex: '.*' }, name: 'x' }), 'slug');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: { $gt: '' }, name: { $gt: '' } }), 'slug', 'name');
    expect((await server.admin.ok('GET', `/apps/${slug}/accounts/${victim.id}`)).email).toBe('victim@example.com');
  });

  it('never turns a query operator into a match-all email filter', async () => {
    await createAccount(slug, { email: 'query-victim@example.com' });
    for (const query of ['email[$gt]=', 'email[$ne]=x', 'email[$regex]=.*', 'email=a%40example.com&email=b%40example.com', 'email[]=query-victim%40example.com']) {
      const res = await server.admin.call('GET', `/apps/${slug}/accounts?${query}`);
      // 400 (a strict query schema), or at worst an empty answer; never the accounts of the app.
      if (res.status === 200) expect([query, res.body]).toEqual([query, []]);
      else expectInvalid(res);
    }
    // Koa parses `email[$gt]` as a literal key, which the strict query schema refuses.
    expectInvalid(await server.admin.call('GET', `/apps/${slug}/accounts?email[$gt]=`), 'email[$gt]');
    expectInvalid(await server.admin.call('GET', `/apps/${slug}/accounts?unknown=1`), 'unknown');
    expectInvalid(await server.admin.call('GET', `/apps/${slug}/accounts?email=a%40example.com&email=b%40example.com`), 'email');
  });

  it('answers 400 for invalid JSON', async () => {
    for (const body of ['{', '{"slug": "x",}', "{'slug': 'x'}", '', '\u0000']) {
      const res = await raw('POST', '/apps', { headers: authorized(json), body });
      expect([body, res.status]).toEqual([body, 400]);
      expect(res.body.error).toBe('invalid_request');
    }
  });

  it('answers 415 for a body that is not JSON', async () => {
    const cases: Array<[string | undefined, string]> = [
      ['application/x-www-form-urlencoded', 'slug=x&name=y'],
      ['text/plain', '{"slug":"x","name":"y"}'],
      ['multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="slug"\r\n\r\nx\r\n--b--'],
      ['application/xml', '<app/>'],
    ];
    for (const [type, body] of cases) {
      const res = await raw('POST', '/apps', { headers: authorized({ 'content-type': type! }), body });
      expect([type, res.status]).toEqual([type, 415]);
      expect(res.body.error).toBe('unsupported_media_type');
    }
    const noType = await raw('POST', '/apps', { headers: authorized(), body: new Blob(['{"slug":"x","name":"y"}']) });
    expect(noType.status).toBe(415);
  });

  it('accepts application/json with a charset parameter', async () => {
    const res = await raw('POST', '/apps', { headers: authorized({ 'content-type': 'application/json; charset=utf-8' }), body: JSON.stringify({ slug: uniqueSlug('charset'), name: 'Charset' }) });
    expect(res.status).toBe(201);
  });

  it('answers 413 for a 1 MB body, declared or streamed, and stays up', async () => {
    const big = JSON.stringify({ slug: uniqueSlug('big'), name: 'x'.repeat(1024 * 1024) });
    const declared = await raw('POST', '/apps', { headers: authorized(json), body: big });
    expect(declared.status).toBe(413);
    expect(declared.body.error).toBe('payload_too_large');

    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"name":"'));
        if (sent++ < 16) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${server.url}/admin/v1/apps`, { method: 'POST', headers: authorized(json), body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe('payload_too_large');
    // The kept-alive connection is still usable for the next requests (no hang, no reset).
    for (let i = 0; i < 3; i++) await expectHealthy();
    expect((await server.admin.call('GET', '/apps')).status).toBe(200);
  });

  it('refuses names BSON cannot store or a page should not show: NUL, control characters, lone surrogates', async () => {
    for (const name of ['nul\u0000inside', 'bell\u0007', 'c1\u0085', 'lone\ud800', 'x\udfffy']) {
      const res = await server.admin.call('POST', '/apps', { slug: uniqueSlug('bad-name'), name });
      expect([name, res.status, res.body.fields?.[0]?.path]).toEqual([name, 400, 'name']);
      const account = await server.admin.call('POST', `/apps/${slug}/accounts`, { email: `bad${++counter}@example.com`, name });
      expect([name, account.status]).toEqual([name, 400]);
    }
  });

  it('round-trips odd but valid Unicode in names: emoji, RTL marks, combining marks', async () => {
    const names = ['Café 🚀 👩🏽‍💻', '\u202Eevil\u202C name', '\u200F\u05E9\u05DC\u05D5\u05DD', 'e\u0301\u0301\u0301', '\uFEFFbom'];
    for (const name of names) {
      const res = await server.admin.call('POST', '/apps', { slug: uniqueSlug('unicode'), name });
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(name.trim());
      const account = await createAccount(slug, { email: `u${++counter}@example.com`, name });
      expect((await server.admin.ok('GET', `/apps/${slug}/accounts/${account.id}`)).name).toBe(name.trim());
    }
  });

  it('treats lone surrogates and invalid UTF-8 as data or a clean 400, never a 500', async () => {
    const bodies = [
      '{"slug":"lone-surrogate","name":"\\ud800"}',
      '{"slug":"lone-low","name":"x\\udfffy"}',
      `{"slug":"\\ud83d${uniqueSlug('s')}","name":"x"}`,
      '{"slug":"ok-slug-\\u0000","name":"x"}',
    ];
    for (const body of bodies) {
      const res = await raw('POST', '/apps', { headers: authorized(json), body });
      expect([body, res.status < 500]).toEqual([body, true]);
      expect([201, 400]).toContain(res.status);
      if (res.status === 201) expect(res.body.name).toBe(JSON.parse(body).name);
    }
    const invalidUtf8 = Buffer.concat([Buffer.from(`{"slug":"${uniqueSlug('bytes')}","name":"`), Buffer.from([0xed, 0xa0, 0x80, 0xff, 0xfe]), Buffer.from('"}')]);
    const res = await raw('POST', '/apps', { headers: authorized(json), body: invalidUtf8 });
    expect([201, 400]).toContain(res.status);
    await expectHealthy();
  });

  it('rejects odd Unicode in identifiers and emails with a 400', async () => {
    expectInvalid(await server.admin.call('POST', '/apps', { slug: 'café', name: 'x' }), 'slug');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: 'rocket-🚀', name: 'x' }), 'slug');
    expectInvalid(await server.admin.call('POST', '/apps', { slug: '\u202Eabc', name: 'x' }), 'slug');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'nul\u0000@example.com' }), 'email');
    expectInvalid(await server.admin.call('POST', `/apps/${slug}/accounts`, { email: 'rtl\u202E@example.com' }), 'email');
  });

  it('answers odd path parameters with a clean 4xx', async () => {
    for (const path of ['/apps/%E0%A4%A', '/apps/%00', '/apps/%F0%9F%9A%80', `/apps/${'a'.repeat(10_000)}`, `/apps/${slug}/accounts/%ud800`, `/apps/${slug}/tenants/%25`, `/apps/${slug}/clients/..%2F..%2Fapps`]) {
      const res = await raw('GET', path, { headers: authorized() });
      expect([path.slice(0, 60), res.status >= 400 && res.status < 500]).toEqual([path.slice(0, 60), true]);
    }
    await expectHealthy();
  });

  it('still answers /healthz and the API after all of the above', async () => {
    await expectHealthy();
    expect((await server.admin.call('GET', `/apps/${slug}`)).status).toBe(200);
  });
});
