/**
 * The embedded store stays bounded: expired oidc records are reclaimed without being read, and past
 * MEMORY_STORE_MAX_RECORDS the least recently written short-lived records are evicted (grants and refresh tokens
 * last). Also the hand-written record copy used by the embedded repositories.
 */
import type { AdapterPayload } from 'oidc-provider';
import { MemoryOidcStore } from '../../src/storage/memory/index.js';
import { copy, ExpiringMap } from '../../src/storage/memory/clock-map.js';
import { startServer } from '../support/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const token = (n: number, extra: Partial<AdapterPayload> = {}): AdapterPayload => ({ jti: `t${n}`, kind: 'AccessToken', clientId: 'c', ...extra } as AdapterPayload);

describe('MemoryOidcStore bounds', () => {
  let store: MemoryOidcStore;
  afterEach(() => store.close());

  it('evicts the least recently written short-lived record past the cap, keeping grants', async () => {
    store = new MemoryOidcStore({ maxRecords: 3 });
    const app = store.adapterFactory('app_1');
    const [tokens, grants] = [app('AccessToken'), app('Grant')];
    await grants.upsert('g1', { jti: 'g1', kind: 'Grant' } as AdapterPayload, 3600);
    await tokens.upsert('a', token(1), 3600);
    await tokens.upsert('b', token(2), 3600);
    await tokens.upsert('c', token(3), 3600);
    expect(store.size).toBe(3);
    expect(store.evicted).toBe(1);
    expect(await tokens.find('a')).toBeUndefined();
    expect(await tokens.find('b')).toMatchObject({ jti: 't2' });
    expect(await tokens.find('c')).toMatchObject({ jti: 't3' });
    expect(await grants.find('g1')).toMatchObject({ jti: 'g1' });
  });

  it('counts a re-save as a new write: the re-saved record outlives older ones', async () => {
    store = new MemoryOidcStore({ maxRecords: 2 });
    const sessions = store.adapterFactory('app_1')('Session');
    await sessions.upsert('s1', { jti: 's1', uid: 'u1', kind: 'Session' } as AdapterPayload, 3600);
    await sessions.upsert('s2', { jti: 's2', uid: 'u2', kind: 'Session' } as AdapterPayload, 3600);
    await sessions.upsert('s1', { jti: 's1', uid: 'u1', kind: 'Session', accountId: 'x' } as AdapterPayload, 3600);
    await sessions.upsert('s3', { jti: 's3', uid: 'u3', kind: 'Session' } as AdapterPayload, 3600);
    expect(await sessions.find('s2')).toBeUndefined();
    expect(await sessions.findByUid('u2')).toBeUndefined();
    expect(await sessions.findByUid('u1')).toMatchObject({ accountId: 'x' });
  });

  it('evicts grants and refresh tokens only when nothing short-lived is left', async () => {
    store = new MemoryOidcStore({ maxRecords: 2 });
    const refresh = store.adapterFactory('app_1')('RefreshToken');
    await refresh.upsert('r1', token(1, { kind: 'RefreshToken' }), 3600);
    await refresh.upsert('r2', token(2, { kind: 'RefreshToken' }), 3600);
    await refresh.upsert('r3', token(3, { kind: 'RefreshToken' }), 3600);
    expect(store.size).toBe(2);
    expect(await refresh.find('r1')).toBeUndefined();
    expect(await refresh.find('r3')).toBeDefined();
  });

  it('keeps grant revocation working after a member was evicted', async () => {
    store = new MemoryOidcStore({ maxRecords: 2 });
    const tokens = store.adapterFactory('app_1')('AccessToken');
    await tokens.upsert('a', token(1, { grantId: 'G' }), 3600);
    await tokens.upsert('b', token(2, { grantId: 'G' }), 3600);
    await tokens.upsert('c', token(3, { grantId: 'G' }), 3600);
    await tokens.revokeByGrantId('G');
    expect(store.size).toBe(0);
  });

  it('reclaims expired records without anyone reading them', async () => {
    store = new MemoryOidcStore({ sweepEveryMs: 100 });
    const app = store.adapterFactory('app_1');
    for (let i = 0; i < 50; i++) await app('AccessToken').upsert(`t${i}`, token(i, { grantId: `g${i}` }), 1);
    await app('Interaction').upsert('i', { jti: 'i', uid: 'u', kind: 'Interaction' } as AdapterPayload, 1);
    await app('AccessToken').upsert('long', token(99), 3600);
    expect(store.size).toBe(52);
    await sleep(1300);
    expect(store.size).toBe(1);
    expect(store.evicted).toBe(0);
  });
});

describe('ExpiringMap write order', () => {
  it('names the least recently written key through rewrites, removals and queue compaction', () => {
    const map = new ExpiringMap<number>();
    try {
      for (const key of ['a', 'b', 'c']) map.set(key, 0, 3600);
      for (let i = 0; i < 10_000; i++) map.set('a', i, 3600); // many rewrites: the queue is compacted meanwhile
      expect(map.oldestKey()).toBe('b');
      map.delete('b');
      expect(map.oldestKey()).toBe('c');
      map.set('c', 1, 3600);
      expect(map.oldestKey()).toBe('a');
      for (let i = 0; i < 10_000; i++) { map.set(`k${i}`, i, 3600); map.delete(map.oldestKey()!); }
      expect(map.size).toBe(2);
      expect(map.oldestKey()).toBe('k9998');
    } finally {
      map.close();
    }
  });
});

describe('MEMORY_STORE_MAX_RECORDS on a running server', () => {
  it('keeps the newest tokens valid and forgets the oldest once the cap is reached', async () => {
    const server = await startServer({ env: { MEMORY_STORE_MAX_RECORDS: '1000' } });
    try {
      await server.admin.ok('POST', '/apps', { slug: 'capped', name: 'Capped' });
      const m2m = await server.admin.ok('POST', '/apps/capped/clients', { name: 'm2m', redirect_uris: ['https://rp.example.test/cb'], grant_types: ['client_credentials'] });
      const auth = `Basic ${Buffer.from(`${m2m.client_id}:${m2m.client_secret}`).toString('base64')}`;
      const call = async (path: string, body: string) => {
        const res = await fetch(`${server.url}/apps/capped${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body });
        expect(res.status).toBe(200);
        return res.json() as Promise<any>;
      };
      const issued: string[] = [];
      for (let i = 0; i < 1100; i += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, () => call('/token', 'grant_type=client_credentials')));
        issued.push(...batch.map((b) => b.access_token));
      }
      expect((await call('/token/introspection', `token=${issued[0]}`)).active).toBe(false);
      expect((await call('/token/introspection', `token=${issued.at(-1)}`)).active).toBe(true);
    } finally {
      await server.close();
    }
  }, 120_000);
});

describe('record copies of the embedded repositories', () => {
  it('copies nested objects, arrays and Dates, keeping undefined members', () => {
    const record = { at: new Date(5), list: [{ a: 1 }], nested: { deep: { n: 1 } }, gone: undefined, n: null };
    const copied = copy(record);
    expect(copied).toEqual(record);
    expect('gone' in copied).toBe(true);
    expect(copied.at).toBeInstanceOf(Date);
    expect(copied.at).not.toBe(record.at);
    copied.list[0].a = 2;
    copied.nested.deep.n = 2;
    expect(record.list[0].a).toBe(1);
    expect(record.nested.deep.n).toBe(1);
  });
});
