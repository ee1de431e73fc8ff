/**
 * API resources are served from the provider (src/provider/resource-servers.ts), not read per token request. These
 * tests run two Portcullis instances on one set of stores with Redis for short-lived state (as two processes behind
 * one PUBLIC_URL): a resource change made on one reaches the other within APP_VERSION_CHECK_MS; a JWT minted by one
 * is introspected by the other; and tokens requested without `resource=` cost no more Redis round trips than in an
 * app without resources.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServer, type TestServer } from '../support/server.js';

const API = 'https://inventory.example.test/';
let redis: RedisServer;
let first: TestServer;
let second: TestServer;
let m2m: { client_id: string; client_secret: string };
let plainM2m: { client_id: string; client_secret: string };

beforeAll(async () => {
  redis = await startRedisServer();
  const env = { REDIS_URL: redis.url, SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'), APP_VERSION_CHECK_MS: '200' };
  first = await startServer({ env });
  second = await startServer({ env: { ...env, PUBLIC_URL: first.url }, stores: first.stores });
  for (const slug of ['stock', 'plain']) await first.admin.ok('POST', '/apps', { slug, name: slug });
  const client = { name: 'm2m', redirect_uris: ['https://rp.example.test/cb'], grant_types: ['client_credentials'] };
  m2m = await first.admin.ok('POST', '/apps/stock/clients', client);
  plainM2m = await first.admin.ok('POST', '/apps/plain/clients', client);
  await first.admin.ok('POST', '/apps/stock/resources', { identifier: API, name: 'Inventory', scopes: [{ value: 'stock:read' }, { value: 'stock:write' }] });
});
afterAll(async () => {
  await second.close(); // shares the first one's stores, which the first closes
  await first.close();
  await redis.close();
});

/** A request to one server's port; both serve the same PUBLIC_URL, so tokens carry the same `iss`. */
async function call(server: TestServer, slug: string, path: string, client: { client_id: string; client_secret: string }, form: Record<string, string>) {
  const res = await fetch(`${server.url}/apps/${slug}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

const token = (server: TestServer, form: Record<string, string>) => call(server, 'stock', '/token', m2m, { grant_type: 'client_credentials', ...form });

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('resource servers across two servers', () => {
  it('serves the resource on both servers, and a change made on one reaches the other at the version check', async () => {
    for (const server of [first, second]) expect((await token(server, { resource: API, scope: 'stock:read' })).body.scope).toBe('stock:read');
    await first.admin.ok('PATCH', `/apps/stock/resources/${encodeURIComponent(API)}`, { scopes: [{ value: 'stock:read' }, { value: 'stock:write' }, { value: 'stock:audit' }], access_token_ttl_seconds: 90 });
    // This server dropped its provider at once; the other sees the new app version within APP_VERSION_CHECK_MS.
    expect((await token(first, { resource: API, scope: 'stock:audit' })).body).toMatchObject({ scope: 'stock:audit', expires_in: 90 });
    await eventually(async () => (await token(second, { resource: API, scope: 'stock:audit' })).body.scope === 'stock:audit');
    await first.admin.ok('DELETE', `/apps/stock/resources/${encodeURIComponent(API)}`);
    await eventually(async () => (await token(second, { resource: API, scope: 'stock:read' })).body.error === 'invalid_target');
    await first.admin.ok('POST', '/apps/stock/resources', { identifier: API, name: 'Inventory', scopes: [{ value: 'stock:read' }] });
    await eventually(async () => (await token(second, { resource: API, scope: 'stock:read' })).status === 200);
  });

  it('introspects on one server a JWT minted by the other (the jti lives in Redis), until it is revoked there', async () => {
    const minted = (await token(first, { resource: API, scope: 'stock:read' })).body.access_token as string;
    const jwks = createRemoteJWKSet(new URL(`${second.url}/apps/stock/jwks`));
    await expect(jwtVerify(minted, jwks, { issuer: `${first.url}/apps/stock`, audience: API, typ: 'at+jwt' })).resolves.toBeDefined();
    expect((await call(second, 'stock', '/token/introspection', m2m, { token: minted })).body).toMatchObject({ active: true, aud: API, sub: m2m.client_id });
    expect((await call(first, 'stock', '/token/revocation', m2m, { token: minted })).status).toBe(200);
    expect((await call(second, 'stock', '/token/introspection', m2m, { token: minted })).body).toEqual({ active: false });
  });

  it('costs no extra Redis round trip for tokens without resource= in an app that has resources', async () => {
    const roundTrips = async (slug: string, client: { client_id: string; client_secret: string }) => {
      await call(first, slug, '/token', client, { grant_type: 'client_credentials' }); // provider built, caches warm
      const before = first.stores.redisRoundTrips();
      const res = await call(first, slug, '/token', client, { grant_type: 'client_credentials' });
      expect(res.status).toBe(200);
      return first.stores.redisRoundTrips() - before;
    };
    expect(await roundTrips('stock', m2m)).toBe(await roundTrips('plain', plainM2m));
  });
});
