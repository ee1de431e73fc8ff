/**
 * The provider-ready client metadata is cached (src/provider/client-cache.ts). These tests change clients and apps
 * through the Admin API of one server and check that the very next request sees the change, both on that server
 * and on a second server sharing the same stores (as two processes share MongoDB): two Portcullis instances with
 * their own provider pools and caches, one set of repositories, Redis for short-lived state.
 */
import { ClientMetadataCache } from '../../src/provider/client-cache.js';
import { MemoryClientRepository } from '../../src/storage/memory/repositories.js';
import type { ClientRecord } from '../../src/storage/ports.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServer, type TestServer } from '../support/server.js';

let redis: RedisServer;
let first: TestServer;
let second: TestServer;
let m2m: { client_id: string; client_secret: string };

const env = () => ({ REDIS_URL: redis.url, SECRETS_KEY: Buffer.alloc(32, 9).toString('base64'), APP_VERSION_CHECK_MS: '200' });

beforeAll(async () => {
  redis = await startRedisServer();
  first = await startServer({ env: env() });
  second = await startServer({ env: env(), stores: first.stores });
  await first.admin.ok('POST', '/apps', { slug: 'cached', name: 'Cached' });
  m2m = await first.admin.ok('POST', '/apps/cached/clients', { name: 'm2m', redirect_uris: ['https://rp.example.test/cb'], grant_types: ['client_credentials'] });
});
afterAll(async () => {
  await second.close(); // shares the first one's stores, which the first closes
  await first.close();
  await redis.close();
});

async function token(server: TestServer, clientId: string, secret: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/apps/cached/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  return { status: res.status, body: await res.json() };
}

describe('client metadata cache: changes reach the next request in this and another server', () => {
  it('serves tokens from both servers with the cached client', async () => {
    for (const server of [first, second, first, second]) expect((await token(server, m2m.client_id, m2m.client_secret)).status).toBe(200);
  });

  it('refuses the old secret and accepts the new one at once after a rotation made on the other server', async () => {
    const rotated = await second.admin.ok('POST', `/apps/cached/clients/${m2m.client_id}/secret`);
    for (const server of [first, second]) {
      expect(await token(server, m2m.client_id, m2m.client_secret)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect((await token(server, m2m.client_id, rotated.client_secret)).status).toBe(200);
    }
    m2m = { ...m2m, client_secret: rotated.client_secret };
  });

  it('applies a changed grant type on the next request of both servers, and the change back', async () => {
    await first.admin.ok('PATCH', `/apps/cached/clients/${m2m.client_id}`, { grant_types: ['authorization_code'] });
    for (const server of [second, first]) {
      expect(await token(server, m2m.client_id, m2m.client_secret)).toMatchObject({ status: 400, body: { error_description: 'requested grant type is not allowed for this client' } });
    }
    await second.admin.ok('PATCH', `/apps/cached/clients/${m2m.client_id}`, { grant_types: ['client_credentials'] });
    for (const server of [first, second]) expect((await token(server, m2m.client_id, m2m.client_secret)).status).toBe(200);
  });

  it('forgets a deleted client on both servers', async () => {
    const other = await first.admin.ok('POST', '/apps/cached/clients', { name: 'short-lived', redirect_uris: ['https://rp.example.test/cb'], grant_types: ['client_credentials'] });
    for (const server of [first, second]) expect((await token(server, other.client_id, other.client_secret)).status).toBe(200);
    await second.admin.call('DELETE', `/apps/cached/clients/${other.client_id}`);
    for (const server of [first, second]) expect((await token(server, other.client_id, other.client_secret)).status).toBe(401);
  });

  it('keeps one provider Client per client version, and builds a new one for a change made on the other server', async () => {
    const clientOf = async (server: TestServer) => (await server.portcullis.pool.get('cached'))!.provider.Client.find(m2m.client_id);
    const kept = await clientOf(first);
    expect(kept?.clientName).toBe('m2m');
    expect((await token(first, m2m.client_id, m2m.client_secret)).status).toBe(200);
    expect(await clientOf(first)).toBe(kept);

    await second.admin.ok('PATCH', `/apps/cached/clients/${m2m.client_id}`, { name: 'm2m renamed' });
    const rebuilt = await clientOf(first);
    expect(rebuilt).not.toBe(kept);
    expect(rebuilt?.clientName).toBe('m2m renamed');
    expect(await clientOf(first)).toBe(rebuilt);
    expect((await token(first, m2m.client_id, m2m.client_secret)).status).toBe(200);
    expect(await (await first.portcullis.pool.get('cached'))!.provider.Client.find('no-such-client')).toBeUndefined();
  });

  it('publishes rotated app keys at once on the changing server and within APP_VERSION_CHECK_MS on the other', async () => {
    const kids = async (server: TestServer) => ((await (await fetch(`${server.url}/apps/cached/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const before = await kids(second);
    await first.admin.ok('POST', '/apps/cached/keys/rotate');
    const after = await kids(first);
    expect(after).not.toEqual(before);
    await new Promise((r) => setTimeout(r, 250));
    expect(await kids(second)).toEqual(after);
  });
});

describe('ClientMetadataCache', () => {
  const record = (patch: Partial<ClientRecord> = {}): ClientRecord => ({
    appId: 'app_1', clientId: 'c1', name: 'Portal', secretCiphertext: 'sealed-1', redirectUris: ['https://rp.example.test/cb'],
    postLogoutRedirectUris: [], grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic',
    firstParty: false, requirePkce: true, createdAt: new Date(1000), updatedAt: new Date(1000), ...patch,
  });

  it('derives metadata once per version of the stored record', async () => {
    const repository = new MemoryClientRepository();
    await repository.create(record());
    let derived = 0;
    const cache = new ClientMetadataCache(repository, {
      toMetadata: (c) => { derived += 1; return { client_id: c.clientId, client_secret: `open(${c.secretCiphertext})`, client_name: c.name }; },
    });
    const one = await cache.find('app_1', 'c1');
    expect(await cache.find('app_1', 'c1')).toBe(one);
    expect(derived).toBe(1);
    expect(Object.isFrozen(one)).toBe(true);

    await repository.update('app_1', 'c1', { secretCiphertext: 'sealed-2' });
    expect((await cache.find('app_1', 'c1'))?.client_secret).toBe('open(sealed-2)');
    expect(derived).toBe(2);

    await repository.delete('app_1', 'c1');
    expect(await cache.find('app_1', 'c1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
