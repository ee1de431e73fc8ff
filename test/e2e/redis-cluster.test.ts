/**
 * Issue 16: Portcullis against a real Redis Cluster (3 primaries + 3 replicas, `test/support/redis-cluster.ts`) with
 * `REDIS_CLUSTER=true`: the sign-in scenarios, keys of several apps spread over the primaries (one hash tag per
 * app), a resharding of an app's slot under load without an error anyone sees, and the loss of the primary holding
 * an app's slot under load: 503 `temporarily_unavailable` meanwhile (never a 500 or a hang), sign-ins again within
 * 15 s without a restart, and a session created before the failover still valid after it.
 *
 * The tests run in order on one cluster (resharding, then the failover, which kills a node for good).
 */
import { randomUUID } from 'node:crypto';
import type { Adapter } from 'oidc-provider';
import { createRedis, RedisOidcStore, waitForRedis } from '../../src/storage/redis/index.js';
import { Browser } from '../support/browser.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import {
  failoverReport, passwordSignIn, sessionStillWorks, setUpHaApp, signInScenarios, startHaPortcullis, underLoad, type HaApp,
} from '../support/redis-ha.js';
import type { TestServer } from '../support/server.js';

let cluster: RedisCluster;
let server: TestServer;
let app: HaApp;
let codeApp: HaApp;

beforeAll(async () => {
  cluster = await startRedisCluster();
  ({ server, app, codeApp } = await startHaPortcullis(cluster.url, true, 'cluster'));
}, 60_000);
afterAll(async () => {
  await server?.close();
  await cluster?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every `pc:` key on one node (SCAN: a node holds only the keys of its own slots). */
async function keysOn(port: number): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await cluster.node(port).scan(cursor, 'MATCH', 'pc:*', 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function primaries(): Promise<number[]> {
  const ports: number[] = [];
  for (const n of cluster.nodes.filter((node) => node.alive)) {
    if (String(await cluster.node(n.port).info('replication')).includes('role:master')) ports.push(n.port);
  }
  return ports;
}

/**
 * Moves one slot from its primary to another with the steps `redis-cli --cluster reshard` takes for each slot
 * (https://redis.io/docs/latest/commands/cluster-setslot/#redis-cluster-live-resharding-explained): IMPORTING on the
 * target, MIGRATING on the source, MIGRATE the keys in small batches (so sign-ins in flight meet ASK and TRYAGAIN),
 * then SETSLOT NODE everywhere (other nodes answer MOVED). `redis-cli --cluster reshard` itself cannot be told which
 * slot to move (it takes a source's lowest slots), and this test needs the slot of the app under load.
 */
async function reshard(slot: number, from: number, to: number, pauseMs = 20): Promise<void> {
  const migration = await startMigration(slot, from, to);
  for (;;) {
    const keys = (await cluster.node(from).call('CLUSTER', 'GETKEYSINSLOT', slot, 5)) as string[];
    if (keys.length === 0) break;
    await migration.move(keys);
    await sleep(pauseMs);
  }
  await migration.finish();
}

const nodeId = (port: number) => cluster.nodes.find((n) => n.port === port)!.id;

/** The first step of {@link reshard}: the slot is MIGRATING on `from`, IMPORTING on `to`. */
async function startMigration(slot: number, from: number, to: number) {
  await cluster.node(to).call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', nodeId(from));
  await cluster.node(from).call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', nodeId(to));
  return {
    move: (keys: string[]) => cluster.node(from).call('MIGRATE', '127.0.0.1', to, '', 0, 5000, 'KEYS', ...keys),
    async finish() {
      for (const port of [to, from, ...(await primaries()).filter((p) => p !== to && p !== from)]) {
        await cluster.node(port).call('CLUSTER', 'SETSLOT', slot, 'NODE', nodeId(to));
      }
    },
  };
}

/**
 * Runs `test` with its own cluster client and the Session and AccessToken adapters of a fresh app, whose slot it
 * may migrate from its primary (`from`) to another (`to`) with {@link startMigration}; `completeMigration` moves the
 * keys left behind and hands the slot over.
 */
async function withFreshApp(test: (fresh: {
  appId: string; store: RedisOidcStore; sessions: Adapter; tokens: Adapter; slot: number; from: number; to: number;
  completeMigration: (migration: Awaited<ReturnType<typeof startMigration>>) => Promise<void>;
}) => Promise<void>): Promise<void> {
  const client = createRedis(cluster.url, { cluster: true, connectTimeoutMs: 2000 });
  try {
    await waitForRedis(client, 5000);
    const appId = `app_${randomUUID()}`;
    const store = new RedisOidcStore(client);
    const slot = await cluster.keySlot(`{${appId}}`);
    const from = await cluster.primaryOf(slot);
    const to = (await primaries()).find((p) => p !== from)!;
    await test({
      appId, store, slot, from, to,
      sessions: store.adapterFactory(appId)('Session'),
      tokens: store.adapterFactory(appId)('AccessToken'),
      async completeMigration(migration) {
        const rest = (await cluster.node(from).call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
        if (rest.length) await migration.move(rest);
        await migration.finish();
        await cluster.waitForOwner(slot, to);
      },
    });
  } finally {
    client.disconnect();
  }
}

describe('Portcullis on a Redis Cluster', () => {
  signInScenarios(() => ({ server, app, codeApp }));

  it('spreads the keys of several apps over the primaries, each app in one slot, every key with a TTL', async () => {
    const apps = [app, codeApp, ...(await Promise.all(Array.from({ length: 6 }, (_, i) => setUpHaApp(server, `spread-${i}`))))];
    for (const each of apps.slice(2)) await passwordSignIn(each, server);

    const byNode = new Map<number, string[]>();
    for (const port of await primaries()) byNode.set(port, await keysOn(port));
    const nodesWithKeys = [...byNode.values()].filter((keys) => keys.length > 0);
    expect(nodesWithKeys.length).toBeGreaterThan(1);

    const all = [...byNode.values()].flat();
    for (const each of apps) {
      const own = all.filter((k) => k.includes(`{${each.id}}`));
      expect(own.length).toBeGreaterThan(0);
      expect(new Set(await Promise.all(own.map((k) => cluster.keySlot(k)))).size).toBe(1);
    }
    // No key outside an app's tag: everything short-lived belongs to one app.
    expect(all.filter((k) => !/\{app_[^}]+\}/.test(k))).toEqual([]);
    for (const [port, keys] of byNode) {
      const ttls = await Promise.all(keys.map((k) => cluster.node(port).pttl(k)));
      expect(keys.filter((_, i) => ttls[i] < 0)).toEqual([]);
    }
  });

  it('finds records by uid and revokes grants while the keys of a slot are half migrated (ASK)', () => withFreshApp(async ({ appId, sessions, tokens, slot, from, to, completeMigration }) => {
    await sessions.upsert('s1', { uid: 'u1', accountId: 'a' }, 60);
    await tokens.upsert('t1', { grantId: 'g1' }, 60);
    await tokens.upsert('t2', { grantId: 'g1' }, 60);

    const migration = await startMigration(slot, from, to);
    // The records move first; their uid pointer and the grant index stay behind on the source for now.
    await migration.move([`pc:{${appId}}:Session:s1`, `pc:{${appId}}:AccessToken:t1`]);
    expect(await sessions.findByUid('u1')).toMatchObject({ uid: 'u1', accountId: 'a' });
    await tokens.revokeByGrantId('g1');
    expect(await tokens.find('t1')).toBeUndefined();
    expect(await tokens.find('t2')).toBeUndefined();
    await completeMigration(migration);
  }));

  it('saves new records over several keys while their slot is half migrated (TRYAGAIN), then finds them where they moved', () => withFreshApp(async ({ appId, store, sessions, tokens, slot, from, to, completeMigration }) => {
    await sessions.upsert('old', { uid: 'u-old', accountId: 'a' }, 60);

    const migration = await startMigration(slot, from, to);
    // The account index has moved, the old session not yet: a new session (record, uid pointer, account index)
    // and a new token (record, grant index) touch keys on both nodes and keys on neither, which the cluster
    // refuses as one script until the migration ends.
    await migration.move([`pc:{${appId}}:account:Session:a`]);
    await sessions.upsert('new', { uid: 'u-new', accountId: 'a' }, 60);
    await tokens.upsert('t1', { grantId: 'g1', accountId: 'a' }, 60);
    expect(await sessions.findByUid('u-new')).toMatchObject({ uid: 'u-new', accountId: 'a' });

    await completeMigration(migration);
    // Everything a single script would have written, with its TTL, on the slot's new primary.
    expect(await sessions.find('new')).toMatchObject({ uid: 'u-new' });
    expect((await store.accountIndex.listByAccount(appId, 'Session', 'a')).map((r) => r.id).sort()).toEqual(['new', 'old']);
    for (const key of [`pc:{${appId}}:Session:new`, `pc:{${appId}}:uid:Session:u-new`, `pc:{${appId}}:grant:g1`, `pc:{${appId}}:AccessToken:t1`]) {
      expect(await cluster.node(to).pttl(key)).toBeGreaterThan(0);
    }
    await tokens.revokeByGrantId('g1');
    expect(await tokens.find('t1')).toBeUndefined();
  }), 20_000);

  it('keeps signing people in, without an error, while the app\'s slot is resharded to another primary', async () => {
    const slot = await cluster.keySlot(`{${app.id}}`);
    const from = await cluster.primaryOf(slot);
    const to = (await primaries()).find((p) => p !== from)!;
    // Fill the slot with sessions and interactions, so the migration has keys to move while sign-ins run.
    for (let i = 0; i < 5; i++) await passwordSignIn(app, server);

    let [migrationStarted, migrated] = [0, 0];
    const outcomes = await underLoad(server, app, async () => {
      await sleep(500);
      migrationStarted = Date.now();
      // Slow enough (seconds) that saves over several keys meet TRYAGAIN for far longer than the client retries it.
      await reshard(slot, from, to, 150);
      migrated = Date.now();
      await sleep(1_000);
    }, { workers: 3 });

    await cluster.waitForOwner(slot, to);
    console.log(`Redis Cluster resharding: ${JSON.stringify({ migrationMs: migrated - migrationStarted, signIns: outcomes.length, slowestMs: Math.max(...outcomes.map((o) => o.ms)) })}`);
    // No error at all: MOVED and ASK are followed by the client, a command meant for a node connection still being
    // opened waits for it (FailFastCluster in src/storage/redis/connection.ts), and a save over several keys that
    // the cluster refuses mid-migration (TRYAGAIN) is done key by key (oidc-adapter.ts).
    expect(outcomes.filter((o) => o.result !== 'signed-in')).toEqual([]);
    // Sign-ins were in flight while keys moved (ASK, TRYAGAIN), and after the move (MOVED to the new owner).
    expect(outcomes.filter((o) => o.startedAt < migrated && o.startedAt + o.ms > migrationStarted).length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.startedAt > migrated).length).toBeGreaterThan(0);
  }, 30_000);

  it('answers 503 while the primary of an app\'s slot fails over, signs in again within 15 s, and keeps sessions', async () => {
    const slot = await cluster.keySlot(`{${app.id}}`);
    const primary = await cluster.primaryOf(slot);
    const browser = new Browser(server.url);
    await passwordSignIn(app, server, browser);
    // WAIT covers the writes of its own connection: a write after the session's, acknowledged by the replica, means
    // the replica has everything before it too (replication is one ordered stream).
    const admin = cluster.node(primary);
    await admin.set(`probe:{${app.id}}`, '1', 'EX', 60);
    expect(await admin.call('WAIT', 1, 2_000)).toBe(1);

    let killedAt = 0;
    const outcomes = await underLoad(server, app, async () => {
      await sleep(500);
      killedAt = Date.now();
      await cluster.kill(primary);
      await cluster.waitHealthy(15_000);
      await sleep(2_000);
    });
    const report = failoverReport(outcomes, killedAt);
    console.log(`Redis Cluster failover: ${JSON.stringify({ ...report, wrong: report.wrong.length })}`);

    expect(report.wrong).toEqual([]);
    expect(report.recoveredAfterMs).toBeDefined();
    expect(report.recoveredAfterMs!).toBeLessThan(15_000);
    expect(await cluster.primaryOf(slot)).not.toBe(primary);
    expect(await sessionStillWorks(server, app, browser)).toBe(true);
  }, 45_000);
});
