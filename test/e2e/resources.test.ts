/**
 * API resources end to end (issue 12): RFC 8707 resource indicators, RFC 9068 JWT access tokens with tenant and
 * roles, DPoP (RFC 9449), and introspection of JWT access tokens. Tokens are verified with `jose` against the app's
 * published JWKS exactly as a portal API would (see README "Protect your API").
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../src/http/views.js';
import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { Browser } from '../support/browser.js';
import { oidc, open, REDIRECT_URI, rpFor, setUpRp, signIn, type Rp } from '../support/rp.js';
import { createUniqueApp, startServer, type TestServer } from '../support/server.js';

const TICKETS = 'https://tickets.example.test/';
let server: TestServer;
let slug: string;
let rp: Rp;
let m2m: { client_id: string; client_secret: string };
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer();
  slug = await createUniqueApp(server, 'rs');
  rp = await setUpRp(server, slug);
  m2m = await server.admin.ok('POST', `/apps/${slug}/clients`, { name: 'Ticket sync', redirect_uris: ['https://rp.example.test/cb'], grant_types: ['client_credentials'] });
  ids.acme = (await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'acme', name: 'Acme Ltd' })).id;
  for (const [who, role] of [['user', 'user'], ['boss', 'company_admin'], ['leaver', 'user'], ['quitter', 'user']] as const) {
    ids[who] = (await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: `${who}@example.com`, password: `password-${who}` })).id;
    await server.admin.ok('PUT', `/apps/${slug}/tenants/acme/members/${ids[who]}`, { roles: [role] });
  }
  ids.resource = (await server.admin.ok('POST', `/apps/${slug}/resources`, {
    identifier: TICKETS,
    name: 'Tickets API',
    scopes: [{ value: 'tickets:read', description: 'Read tickets' }, { value: 'tickets:write', description: 'Change tickets' }],
    role_scopes: { company_admin: ['tickets:read', 'tickets:write'], user: ['tickets:read'] },
  })).id;
});
afterAll(() => server.close());

const issuerOf = (s: string) => `${server.url}/apps/${s}`;

/** What a portal API does with a bearer token: verify signature, `typ`, `iss`, `aud` against the app's JWKS. */
async function verifyAsApi(token: string, appSlug = slug, audience = TICKETS): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${issuerOf(appSlug)}/jwks`));
  const { payload } = await jwtVerify(token, jwks, { issuer: issuerOf(appSlug), audience, typ: 'at+jwt', algorithms: ['ES256'] });
  return payload;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${issuerOf(slug)}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.json().catch(() => undefined), headers: res.headers };
}

const clientCredentials = (form: Record<string, string>, headers: Record<string, string> = {}) =>
  post('/token', { grant_type: 'client_credentials', ...form }, { authorization: basic(m2m.client_id, m2m.client_secret), ...headers });

const introspect = (token: string) => post('/token/introspection', { token }, { authorization: basic(rp.clientId, rp.clientSecret!) });

/** A DPoP proof (RFC 9449 §4.2) made with jose, as a client library would. */
async function dpopKey() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return {
    thumbprint: await calculateJwkThumbprint(jwk),
    proof: (htm: string, htu: string, accessToken?: string) => new SignJWT({
      htm, htu, jti: randomUUID(),
      ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
    }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt().sign(privateKey),
  };
}

const resourceSignIn = (who: string, extra: Record<string, string> = {}) =>
  signIn(rp, new Browser(server.url), `${who}@example.com`, `password-${who}`, { params: { scope: 'openid tickets:read tickets:write', resource: TICKETS, ...extra } });

describe('JWT access tokens for an API resource', () => {
  it('gives a person with role user a JWT for the resource with only tickets:read, the tenant and roles', async () => {
    const { tokens } = await resourceSignIn('user');
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const claims = await verifyAsApi(tokens.access_token);
    expect(claims).toMatchObject({
      iss: issuerOf(slug), sub: ids.user, aud: TICKETS, client_id: rp.clientId, scope: 'tickets:read',
      tenant_id: ids.acme, tenant_slug: 'acme', roles: ['user'],
    });
    expect(typeof claims.jti).toBe('string');
    expect(typeof claims.auth_time).toBe('number');
    expect(claims.exp! - claims.iat!).toBe(300);
    // The ID token is still the person's; the access token is for the API, not for userinfo (RFC 9068 §1).
    expect(tokens.claims()).toMatchObject({ sub: ids.user, tenant_slug: 'acme' });
    const userinfo = await fetch(`${issuerOf(slug)}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
  });

  it('gives a company_admin both scopes', async () => {
    const { tokens } = await resourceSignIn('boss');
    const claims = await verifyAsApi(tokens.access_token);
    expect(claims).toMatchObject({ sub: ids.boss, scope: 'tickets:read tickets:write', tenant_slug: 'acme', roles: ['company_admin'] });
  });

  it('gives a signed-in person a token for a resource asked for later, without signing in again', async () => {
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'boss@example.com', 'password-boss', { params: { scope: 'openid' } });
    const flow = await rp.begin({ scope: 'openid tickets:write', resource: TICKETS });
    const page = await open(browser, flow);
    expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await rp.finish(flow, page.url);
    expect(await verifyAsApi(tokens.access_token)).toMatchObject({ sub: ids.boss, scope: 'tickets:write', tenant_slug: 'acme' });
  });

  it('keeps the audience and role scopes on refresh with resource=, and gives a userinfo token without it', async () => {
    const { tokens } = await resourceSignIn('user');
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!, { resource: TICKETS });
    expect(await verifyAsApi(refreshed.access_token)).toMatchObject({ aud: TICKETS, scope: 'tickets:read', tenant_slug: 'acme', sub: ids.user });
    const plain = await oidc.refreshTokenGrant(rp.config, refreshed.refresh_token!);
    expect(plain.access_token.split('.')).toHaveLength(1);
    expect(await oidc.fetchUserInfo(rp.config, plain.access_token, ids.user)).toMatchObject({ sub: ids.user, tenant_slug: 'acme' });
  });

  it('issues client_credentials tokens for the resource with the client\'s own identity', async () => {
    const res = await clientCredentials({ resource: TICKETS, scope: 'tickets:read tickets:write' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'tickets:read tickets:write' });
    const claims = await verifyAsApi(res.body.access_token);
    expect(claims).toMatchObject({ sub: m2m.client_id, client_id: m2m.client_id, aud: TICKETS, scope: 'tickets:read tickets:write' });
    expect(claims.tenant_id).toBeUndefined();
  });

  it('puts the tenant of a client that belongs to one in its client_credentials tokens', async () => {
    const bad = await server.admin.call('POST', `/apps/${slug}/clients`, { name: 'x', redirect_uris: ['https://rp.example.test/cb'], grant_types: ['client_credentials'], tenant: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toEqual([expect.objectContaining({ path: 'tenant' })]);
    const acmeSync = await server.admin.ok('POST', `/apps/${slug}/clients`, { name: 'Acme sync', redirect_uris: ['https://rp.example.test/cb'], grant_types: ['client_credentials'], tenant: 'acme' });
    expect(acmeSync.tenant_id).toBe(ids.acme);
    const res = await post('/token', { grant_type: 'client_credentials', resource: TICKETS, scope: 'tickets:read' }, { authorization: basic(acmeSync.client_id, acmeSync.client_secret) });
    expect(await verifyAsApi(res.body.access_token)).toMatchObject({ sub: acmeSync.client_id, tenant_id: ids.acme, tenant_slug: 'acme' });
  });

  it('answers invalid_target for an unknown resource at the token and authorization endpoints', async () => {
    const res = await clientCredentials({ resource: 'https://unknown.example.test/', scope: 'tickets:read' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
    const flow = await rp.begin({ resource: 'https://unknown.example.test/' });
    const page = await open(new Browser(server.url), flow);
    const callback = new URL(page.url);
    expect(callback.href.startsWith(REDIRECT_URI)).toBe(true);
    expect(callback.searchParams.get('error')).toBe('invalid_target');
  });

  it('is refused by the resource\'s validation when it comes from another app (other iss and keys)', async () => {
    const other = await createUniqueApp(server, 'rs-other');
    await server.admin.ok('POST', `/apps/${other}/resources`, { identifier: TICKETS, name: 'Same API', scopes: [{ value: 'tickets:read' }] });
    const foreign = await server.admin.ok('POST', `/apps/${other}/clients`, { name: 'm2m', redirect_uris: ['https://rp.example.test/cb'], grant_types: ['client_credentials'] });
    const res = await fetch(`${issuerOf(other)}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(foreign.client_id, foreign.client_secret) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: TICKETS, scope: 'tickets:read' }).toString(),
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    await expect(verifyAsApi(token, other)).resolves.toMatchObject({ aud: TICKETS });
    await expect(verifyAsApi(token)).rejects.toThrow();
  });

  it('answers introspection for JWT access tokens, and active:false once the grant is revoked', async () => {
    const { tokens } = await resourceSignIn('leaver');
    const active = await introspect(tokens.access_token);
    expect(active.body).toMatchObject({ active: true, sub: ids.leaver, aud: TICKETS, scope: 'tickets:read', tenant_slug: 'acme', token_type: 'Bearer' });
    // Revoking the refresh token revokes the grant (RFC 7009 §2.1): the JWT is dead for APIs that introspect.
    expect((await post('/token/revocation', { token: tokens.refresh_token! }, { authorization: basic(rp.clientId, rp.clientSecret!) })).status).toBe(200);
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });
  });

  it('answers active:false for a JWT after its account is deactivated, or after the JWT itself was revoked', async () => {
    const { tokens } = await resourceSignIn('quitter');
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
    await server.admin.ok('PATCH', `/apps/${slug}/accounts/${ids.quitter}`, { status: 'deactivated' });
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });

    const cc = (await clientCredentials({ resource: TICKETS, scope: 'tickets:read' })).body.access_token;
    const asM2m = { authorization: basic(m2m.client_id, m2m.client_secret) };
    expect((await post('/token/introspection', { token: cc }, asM2m)).body).toMatchObject({ active: true, sub: m2m.client_id });
    expect((await post('/token/revocation', { token: cc }, asM2m)).status).toBe(200);
    expect((await post('/token/introspection', { token: cc }, asM2m)).body).toEqual({ active: false });
  });

  it('answers active:false for a JWT whose signature was tampered with', async () => {
    const cc = (await clientCredentials({ resource: TICKETS, scope: 'tickets:read' })).body.access_token as string;
    const [h, p, s] = cc.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'tickets:read tickets:write' })).toString('base64url');
    expect((await introspect(`${h}.${forged}.${s}`)).body).toEqual({ active: false });
  });
});

describe('the README "Protect your API" example', () => {
  /** The README's first js block of the section, as written; only ISSUER, AUDIENCE and the jose import point here. */
  async function readmeModule() {
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const section = /^## Protect your API\n([\s\S]*?)^## /m.exec(readme)![1];
    const code = /^```js\n([\s\S]*?)^```$/m.exec(section)![1]
      .replace(/const ISSUER = '[^']*'/, `const ISSUER = '${issuerOf(slug)}'`)
      .replace(/const AUDIENCE = '[^']*'/, `const AUDIENCE = '${TICKETS}'`)
      .replace("from 'jose'", `from '${pathToFileURL(path.join(projectRoot, 'node_modules/jose/dist/webapi/index.js')).href}'`);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'readme-api-')), 'api.mjs');
    writeFileSync(file, code);
    return (await import(pathToFileURL(file).href)) as {
      verifyAccessToken(authorization?: string): Promise<{ subject: string; scopes: Set<string>; tenant?: { slug: string; roles: string[] } }>;
      requireScope(scope: string): (req: unknown, res: unknown, next: () => void) => Promise<unknown>;
    };
  }

  /** Just enough of Express's req/res for the middleware. */
  function exchange(authorization?: string) {
    const out = { status: 0, headers: {} as Record<string, string>, nextCalled: false };
    const res = { status(code: number) { out.status = code; return res; }, set(name: string, value: string) { out.headers[name] = value; return res; }, end() { return res; } };
    const req = { get: (name: string) => (name === 'authorization' ? authorization : undefined) } as Record<string, unknown>;
    return { req, res, out, next: () => { out.nextCalled = true; } };
  }

  it('validates a real token and enforces scopes as written', async () => {
    const api = await readmeModule();
    const { tokens } = await resourceSignIn('user');
    const caller = await api.verifyAccessToken(`Bearer ${tokens.access_token}`);
    expect(caller).toMatchObject({ subject: ids.user, tenant: { slug: 'acme', roles: ['user'] } });
    expect([...caller.scopes]).toEqual(['tickets:read']);

    const read = exchange(`Bearer ${tokens.access_token}`);
    await api.requireScope('tickets:read')(read.req, read.res, read.next);
    expect(read.out.nextCalled).toBe(true);
    const write = exchange(`Bearer ${tokens.access_token}`);
    await api.requireScope('tickets:write')(write.req, write.res, write.next);
    expect(write.out).toMatchObject({ status: 403, nextCalled: false });
    const forged = exchange(`Bearer ${tokens.access_token.slice(0, -4)}AAAA`);
    await api.requireScope('tickets:read')(forged.req, forged.res, forged.next);
    expect(forged.out).toMatchObject({ status: 401, nextCalled: false });
    const userinfoToken = exchange(`Bearer ${(await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).access_token}`);
    await api.requireScope('tickets:read')(userinfoToken.req, userinfoToken.res, userinfoToken.next);
    expect(userinfoToken.out.status).toBe(401);
  });
});

describe('DPoP (RFC 9449)', () => {
  it('is advertised in discovery', async () => {
    const meta = (await (await fetch(`${issuerOf(slug)}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
  });

  it('binds a token to the proof key: userinfo refuses it without the proof and accepts it with one', async () => {
    const key = await dpopKey();
    const browser = new Browser(server.url);
    const flow = await rp.begin({ scope: 'openid email' });
    let page = await open(browser, flow);
    page = await browser.submit(page, { identifier: 'user@example.com', password: 'password-user' }, { action: '/login', stopAt: REDIRECT_URI });
    const code = new URL(page.url).searchParams.get('code')!;
    const tokenUrl = `${issuerOf(slug)}/token`;
    const res = await post('/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier },
      { authorization: basic(rp.clientId, rp.clientSecret!), dpop: await key.proof('POST', tokenUrl) });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    const at = res.body.access_token as string;
    const userinfoUrl = `${issuerOf(slug)}/me`;
    // RFC 9449 §7.1 with RFC 6750 §3.1: a missing proof is a malformed request (400), the challenge names DPoP.
    const without = await fetch(userinfoUrl, { headers: { authorization: `DPoP ${at}` } });
    expect(without.status).toBe(400);
    expect(without.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_request"/);
    const asBearer = await fetch(userinfoUrl, { headers: { authorization: `Bearer ${at}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const withProof = await fetch(userinfoUrl, { headers: { authorization: `DPoP ${at}`, dpop: await key.proof('GET', userinfoUrl, at) } });
    expect(withProof.status).toBe(200);
    expect(await withProof.json()).toMatchObject({ sub: ids.user });
    // Introspection shows the binding (RFC 9449 §6.2).
    expect((await introspect(at)).body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.thumbprint } });
  });

  it('puts cnf.jkt in JWTs, and a resource with require_dpop refuses token requests without a proof', async () => {
    const strict = 'https://payments.example.test/';
    await server.admin.ok('POST', `/apps/${slug}/resources`, { identifier: strict, name: 'Payments', scopes: [{ value: 'pay' }], require_dpop: true });
    const refused = await clientCredentials({ resource: strict, scope: 'pay' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_dpop_proof');
    const key = await dpopKey();
    const ok = await clientCredentials({ resource: strict, scope: 'pay' }, { dpop: await key.proof('POST', `${issuerOf(slug)}/token`) });
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe('DPoP');
    expect(await verifyAsApi(ok.body.access_token, slug, strict)).toMatchObject({ scope: 'pay', cnf: { jkt: key.thumbprint } });
  });

  it('refuses tokens without a proof to a client with require_dpop', async () => {
    const strict = await server.admin.ok('POST', `/apps/${slug}/clients`, { name: 'Strict', redirect_uris: ['https://rp.example.test/cb'], grant_types: ['client_credentials'], require_dpop: true });
    expect(strict.require_dpop).toBe(true);
    const auth = { authorization: basic(strict.client_id, strict.client_secret) };
    const refused = await post('/token', { grant_type: 'client_credentials', resource: TICKETS, scope: 'tickets:read' }, auth);
    expect(refused.status).toBe(400);
    const key = await dpopKey();
    const ok = await post('/token', { grant_type: 'client_credentials', resource: TICKETS, scope: 'tickets:read' }, { ...auth, dpop: await key.proof('POST', `${issuerOf(slug)}/token`) });
    expect(ok.body.token_type).toBe('DPoP');
  });

  it('binds the refresh tokens of public clients to the proof key', async () => {
    const created = await server.admin.ok('POST', `/apps/${slug}/clients`, { name: 'SPA', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', first_party: true });
    const spa = await rpFor(server, slug, created.client_id);
    const key = await dpopKey();
    const browser = new Browser(server.url);
    const flow = await spa.begin({ scope: 'openid' });
    let page = await open(browser, flow);
    page = await browser.submit(page, { identifier: 'boss@example.com', password: 'password-boss' }, { action: '/login', stopAt: REDIRECT_URI });
    const tokenUrl = `${issuerOf(slug)}/token`;
    const code = new URL(page.url).searchParams.get('code')!;
    const res = await post('/token', { grant_type: 'authorization_code', client_id: spa.clientId, code, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier },
      { dpop: await key.proof('POST', tokenUrl) });
    expect(res.status).toBe(200);
    const refresh = (proof?: string) => post('/token', { grant_type: 'refresh_token', client_id: spa.clientId, refresh_token: res.body.refresh_token },
      proof ? { dpop: proof } : {});
    const unbound = await refresh();
    expect(unbound.status).toBe(400);
    expect(unbound.body.error).toBe('invalid_grant');
    const otherKey = await dpopKey();
    expect((await refresh(await otherKey.proof('POST', tokenUrl))).body.error).toBe('invalid_grant');
    const bound = await refresh(await key.proof('POST', tokenUrl));
    expect(bound.status).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');
  });
});

describe('resource changes reach the provider at once', () => {
  it('applies a changed role mapping and lifetime on the next token, and a default resource to requests without resource=', async () => {
    await server.admin.ok('PATCH', `/apps/${slug}/resources/${ids.resource}`, { access_token_ttl_seconds: 120 });
    const res = await clientCredentials({ resource: TICKETS, scope: 'tickets:read' });
    expect(res.body.expires_in).toBe(120);
    const none = await clientCredentials({ scope: 'tickets:read' });
    expect(none.body.access_token.split('.')).toHaveLength(1);
    await server.admin.ok('PATCH', `/apps/${slug}/resources/${encodeURIComponent(TICKETS)}`, { is_default: true });
    const defaulted = await clientCredentials({ scope: 'tickets:read' });
    expect(await verifyAsApi(defaulted.body.access_token)).toMatchObject({ aud: TICKETS, scope: 'tickets:read' });
    await server.admin.ok('PATCH', `/apps/${slug}/resources/${ids.resource}`, { is_default: false, access_token_ttl_seconds: 300, allowed_clients: [rp.clientId] });
    expect((await clientCredentials({ resource: TICKETS, scope: 'tickets:read' })).body.error).toBe('invalid_target');
    await server.admin.ok('PATCH', `/apps/${slug}/resources/${ids.resource}`, { allowed_clients: null });
    expect((await clientCredentials({ resource: TICKETS, scope: 'tickets:read' })).status).toBe(200);
  });
});

describe('Admin API for resources', () => {
  const base = () => `/apps/${slug}/resources`;

  it('lists, gets (by id or identifier) and deletes resources, and documents them in OpenAPI', async () => {
    const created = await server.admin.ok('POST', base(), { identifier: 'https://reports.example.test/v1', name: 'Reports', scopes: [{ value: 'reports:read' }] });
    expect(created).toMatchObject({ identifier: 'https://reports.example.test/v1', access_token_format: 'jwt', access_token_ttl_seconds: 300, require_dpop: false, is_default: false });
    expect((await server.admin.ok('GET', base())).map((r: { id: string }) => r.id)).toContain(created.id);
    expect((await server.admin.ok('GET', `${base()}/${encodeURIComponent('https://reports.example.test/v1')}`)).id).toBe(created.id);
    expect((await server.admin.call('DELETE', `${base()}/${created.id}`)).status).toBe(204);
    expect((await server.admin.call('GET', `${base()}/${created.id}`)).status).toBe(404);
    expect((await clientCredentials({ resource: 'https://reports.example.test/v1', scope: 'reports:read' })).body.error).toBe('invalid_target');
    const doc = await server.admin.ok('GET', '/openapi.json');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/apps/{slug}/resources', '/apps/{slug}/resources/{resource}']));
    const audit = await server.admin.ok('GET', `/apps/${slug}/audit?type=resource.`);
    expect(JSON.stringify(audit)).toContain('resource.deleted');
  });

  it.each([
    ['a relative identifier', { identifier: '/tickets', name: 'x' }, 'identifier'],
    ['an identifier with a fragment', { identifier: 'https://api.example.test/#x', name: 'x' }, 'identifier'],
    ['an OpenID scope', { identifier: 'https://a.example.test/', name: 'x', scopes: [{ value: 'openid' }] }, 'scopes.0.value'],
    ['duplicate scopes', { identifier: 'https://a.example.test/', name: 'x', scopes: [{ value: 'a' }, { value: 'a' }] }, 'scopes'],
    ['an unknown format', { identifier: 'https://a.example.test/', name: 'x', access_token_format: 'paseto' }, 'access_token_format'],
    ['a zero lifetime', { identifier: 'https://a.example.test/', name: 'x', access_token_ttl_seconds: 0 }, 'access_token_ttl_seconds'],
    ['an unknown field', { identifier: 'https://a.example.test/', name: 'x', audience: 'y' }, ''],
    ['a role mapped to an unknown scope', { identifier: 'https://a.example.test/', name: 'x', scopes: [{ value: 'a' }], role_scopes: { user: ['b'] } }, 'role_scopes.user'],
    ['an unknown allowed client', { identifier: 'https://a.example.test/', name: 'x', allowed_clients: ['nope'] }, 'allowed_clients.0'],
  ])('refuses %s with a 400 naming the field', async (_label, body, field) => {
    const res = await server.admin.call('POST', base(), body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    if (field) expect(res.body.fields.map((f: { path: string }) => f.path)).toContain(field);
  });

  it('refuses a duplicate identifier (409), an unknown resource (404) and a bad patch (400)', async () => {
    expect((await server.admin.call('POST', base(), { identifier: TICKETS, name: 'Again' })).status).toBe(409);
    expect((await server.admin.call('PATCH', `${base()}/rs_missing`, { name: 'x' })).status).toBe(404);
    const bad = await server.admin.call('PATCH', `${base()}/${ids.resource}`, { role_scopes: { user: ['nope'] } });
    expect(bad.status).toBe(400);
    expect((await server.admin.call('POST', base(), '{not json')).status).toBe(400);
  });
});
