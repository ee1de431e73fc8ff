/**
 * What the contract suites cannot see: URL parsing, the key layout, round trips, and behaviour while Redis is
 * down and after it comes back. Uses a private redis-server because it stops and restarts it.
 */
import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '../../src/errors.js';
import {
  createRedis, parseRedisUrl, reconnectDelay, RedisEphemeralStore, RedisOidcStore, waitForRedis, type RedisClient,
} from '../../src/storage/redis/index.js';
import { ephemeralKey, oidcAppKey } from '../../src/storage/redis/keys.js';
import { isSlotMigrating, toStorageError } from '../../src/storage/redis/errors.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('parseRedisUrl', () => {
  it('parses a single server with credentials and database, and redacts the password', () => {
    const target = parseRedisUrl('rediss://user:p%40ss@cache.example:6380/2');
    expect(target).toMatchObject({
      kind: 'standalone', tls: true, username: 'user', password: 'p@ss', db: 2,
      hosts: [{ host: 'cache.example', port: 6380 }],
    });
    expect(target.redacted).toBe('rediss://cache.example:6380/2');
  });

  it('parses sentinel URLs: sentinels, master name, database', () => {
    const target = parseRedisUrl('redis-sentinel://:secret@s1:26380,s2,[::1]:26381/mymaster/3');
    expect(target).toMatchObject({
      kind: 'sentinel', password: 'secret', masterName: 'mymaster', db: 3,
      hosts: [{ host: 's1', port: 26380 }, { host: 's2', port: 26379 }, { host: '::1', port: 26381 }],
    });
    expect(target.redacted).toBe('redis-sentinel://s1:26380,s2:26379,[::1]:26381/mymaster/3');
    expect(() => parseRedisUrl('redis-sentinel://s1:26379')).toThrow(/master name/);
  });

  it('parses cluster seed nodes only when asked to', () => {
    expect(parseRedisUrl('redis://:pw@n1:7000,n2:7001', true)).toMatchObject({
      kind: 'cluster', hosts: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }],
    });
    expect(() => parseRedisUrl('redis://n1:7000,n2:7001')).toThrow(/REDIS_CLUSTER/);
    expect(() => parseRedisUrl('redis://n1:7000,n2:7001/2', true)).toThrow(/only database 0/);
    expect(parseRedisUrl('redis://n1:7000/0', true).db).toBe(0);
  });

  it('rejects what is not a Redis URL', () => {
    expect(() => parseRedisUrl('http://localhost')).toThrow();
    expect(() => parseRedisUrl('redis://host:port')).toThrow();
  });
});

describe('key names', () => {
  const hashTag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];

  it('tags every key of an app with its id, the same for ephemeral and OIDC keys, and leaves others untagged', () => {
    expect(ephemeralKey('pc:', 'app:app_X1:rl:ip:1.2.3.4')).toBe('pc:app:{app_X1}:rl:ip:1.2.3.4');
    expect(hashTag(ephemeralKey('pc:', 'app:app_X1:otp:abc'))).toBe(hashTag(oidcAppKey('pc:', 'app_X1')));
    expect(hashTag(ephemeralKey('pc:', 'app:app_Y2:otp:abc'))).toBe('app_Y2');
    expect(ephemeralKey('pc:', 'not-scoped')).toBe('pc:not-scoped');
  });
});

describe('reconnectDelay', () => {
  it('backs off and never gives up', () => {
    expect(reconnectDelay(1)).toBeLessThan(reconnectDelay(3));
    expect(reconnectDelay(1_000_000)).toBe(2000);
  });
});

describe('isSlotMigrating (a save refused mid-resharding, done key by key instead)', () => {
  const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
  it('knows TRYAGAIN and the client giving up on redirections, also once wrapped as a 503', () => {
    expect(isSlotMigrating(reply('TRYAGAIN Multiple keys request during rehashing of slot'))).toBe(true);
    const gaveUp = new Error('Too many Cluster redirections. Last error: ReplyError: MOVED 13615 127.0.0.1:37421');
    expect(isSlotMigrating(gaveUp)).toBe(true);
    expect(isSlotMigrating(toStorageError(gaveUp))).toBe(true);
  });
  it('is false for an outage or a command error', () => {
    expect(isSlotMigrating(new Error('Connection is closed.'))).toBe(false);
    expect(isSlotMigrating(toStorageError(reply('CLUSTERDOWN The cluster is down')))).toBe(false);
    expect(isSlotMigrating(reply('ERR wrong number of arguments'))).toBe(false);
  });
});

describe('waitForRedis', () => {
  it('names the address without the password when Redis is unreachable', async () => {
    const client = createRedis('redis://:topsecret@127.0.0.1:1/0', { cluster: false, connectTimeoutMs: 200 });
    try {
      const failure = waitForRedis(client, 300);
      await expect(failure).rejects.toThrow('cannot reach Redis at redis://127.0.0.1:1/0');
      await failure.catch((error: Error) => expect(error.message).not.toContain('topsecret'));
    } finally {
      client.disconnect();
    }
  });
});

describe('Redis stores against a real server', () => {
  let server: RedisServer;
  let client: RedisClient;
  let prefix: string;

  beforeAll(async () => {
    server = await startRedisServer({ restartable: true });
    client = createRedis(server.url, { cluster: false, connectTimeoutMs: 1000 });
    await waitForRedis(client, 5000);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.close();
  });
  beforeEach(() => {
    prefix = `test:${randomUUID()}:`;
  });

  describe('key layout and round trips', () => {
    it('upserts in one round trip, with pointers and the grant index expiring with the record', async () => {
      const store = new RedisOidcStore(client, { prefix });
      const adapter = store.adapterFactory('app1')('DeviceCode');
      // Warm the script cache so a first-use NOSCRIPT retry does not count.
      await new RedisOidcStore(client, { prefix: `${prefix}warm-up:` }).adapterFactory('app1')('DeviceCode').upsert('w', {}, 1);
      const start = store.roundTrips;
      await adapter.upsert('code1', { uid: 'u1', userCode: 'UC-1', grantId: 'g1' }, 120);
      expect(store.roundTrips - start).toBe(1);

      const keys = (await client.keys(`${prefix}{*`)).sort();
      expect(keys).toEqual([
        `${prefix}{app1}:DeviceCode:code1`,
        `${prefix}{app1}:grant:g1`,
        `${prefix}{app1}:uid:DeviceCode:u1`,
        `${prefix}{app1}:userCode:DeviceCode:UC-1`,
      ].sort());
      for (const key of keys) {
        const ttl = await client.ttl(key);
        expect(ttl).toBeGreaterThan(110);
        expect(ttl).toBeLessThanOrEqual(120);
      }
    });

    it('drops a stale consumed mark on re-save, and saves without TTL (grant index made persistent)', async () => {
      const store = new RedisOidcStore(client, { prefix });
      const adapter = store.adapterFactory('app1')('AccessToken');
      await adapter.upsert('t1', { grantId: 'g2', n: 1 }, 60);
      await adapter.consume('t1');
      expect((await adapter.find('t1'))?.consumed).toBeGreaterThan(0);
      await adapter.upsert('t1', { grantId: 'g2', n: 2 }, 0 as never);
      expect(await adapter.find('t1')).toEqual({ grantId: 'g2', n: 2 });
      expect(await client.ttl(`${prefix}{app1}:AccessToken:t1`)).toBe(-1);
      expect(await client.ttl(`${prefix}{app1}:grant:g2`)).toBe(-1);
      expect(await client.smembers(`${prefix}{app1}:grant:g2`)).toEqual([`${prefix}{app1}:AccessToken:t1`]);
    });

    it('uses one round trip per find, findByUid, consume, destroy and revoke', async () => {
      const store = new RedisOidcStore(client, { prefix });
      const adapter = store.adapterFactory('app1')('Session');
      await adapter.upsert('s1', { uid: 'u1', grantId: 'g' }, 60);
      // Warm the script cache so a first-use NOSCRIPT retry does not count.
      await adapter.findByUid('u1');
      await expect(adapter.consume('none')).rejects.toMatchObject({ error: 'invalid_grant' }); // nothing to claim
      await adapter.revokeByGrantId('none');
      const start = store.roundTrips;
      await adapter.find('s1');
      await adapter.findByUid('u1');
      await adapter.consume('s1');
      await adapter.destroy('s1');
      await adapter.revokeByGrantId('g');
      expect(store.roundTrips - start).toBe(5);
    });

    it('answers a rate-limit hit and the counter reads beside it in one round trip (auto-pipelining, scripted increment)', async () => {
      if (!server.owned) return; // a shared server's other traffic would be counted too
      const store = new RedisEphemeralStore(client, { prefix });
      await store.increment('app:a:rl:warm-up', 60); // load the script, so no NOSCRIPT retry is counted
      // Socket reads the server processed; the INFO command is never pipelined, and its own read is counted.
      const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await client.info('stats'))![1]);
      const before = await reads();
      const [count, seen, missing] = await Promise.all([
        store.increment('app:a:rl:ip', 60), store.get('app:a:rl:warm-up'), store.get('app:a:rl:none'),
      ]);
      const after = await reads();
      expect([count, seen, missing]).toEqual([1, 1, undefined]);
      expect(after - before).toBe(2); // the three commands, then the second INFO
      // The window was set once, on creation, and the next hit does not extend it.
      const ttl = await client.pttl(`${prefix}app:{a}:rl:ip`);
      expect(ttl).toBeGreaterThan(55_000);
      expect(await store.increment('app:a:rl:ip', 600)).toBe(2);
      expect(await client.pttl(`${prefix}app:{a}:rl:ip`)).toBeLessThanOrEqual(ttl);
    });

    it('prefixes ephemeral keys, tags them with the app id (one cluster slot per app) and stores JSON', async () => {
      const store = new RedisEphemeralStore(client, { prefix });
      await store.set('app:a:code', { n: 1 }, 60);
      expect(await client.get(`${prefix}app:{a}:code`)).toBe('{"n":1}');
    });

    it('defaults to the pc: prefix', async () => {
      const key = `contract-default-${randomUUID()}`;
      await new RedisEphemeralStore(client).set(key, 1, 60);
      expect(await client.get(`pc:${key}`)).toBe('1');
      await client.del(`pc:${key}`);
    });
  });

  describe('outage and recovery', () => {
    it('answers ServiceUnavailableError while Redis is down, and works again once it is back', async () => {
      if (!server.owned) return; // REDIS_URL points at a server we must not stop
      const ephemeral = new RedisEphemeralStore(client, { prefix });
      const oidc = new RedisOidcStore(client, { prefix }).adapterFactory('app1')('AccessToken');
      await ephemeral.set('k', 'v', 60);

      await server.stop();
      await sleep(100);
      const started = Date.now();
      await expect(ephemeral.get('k')).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(ephemeral.increment('n', 60)).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable', dependency: 'redis' });
      await expect(oidc.upsert('t1', { grantId: 'g' }, 60)).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(oidc.find('t1')).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(oidc.findByUid('u')).rejects.toBeInstanceOf(ServiceUnavailableError);
      // Fails fast: no offline queue, no waiting for reconnection.
      expect(Date.now() - started).toBeLessThan(1000);

      await server.start();
      await waitForRedis(client, 10_000);
      await ephemeral.set('k', 'back', 60);
      expect(await ephemeral.get('k')).toBe('back');
      // The restarted server has an empty script cache: EVALSHA falls back to EVAL.
      await oidc.upsert('t1', { uid: 'u' }, 60);
      expect(await oidc.findByUid('u')).toEqual({ uid: 'u' });
    });
  });
});
