import type { Config } from '../../config/index.js';
import type { Logger } from '../log.js';
import type { EphemeralStore, OidcAccountIndex, OidcAdapterFactory, Stores } from './ports.js';
import { createMemoryRepositories, MemoryEphemeralStore, MemoryOidcStore } from './memory/index.js';
import { createRedis, describeRedis, RedisEphemeralStore, RedisOidcStore, waitForRedis, type RedisClient } from './redis/index.js';
import { splitAccountIndex, splitOidcAdapter } from './split-oidc-adapter.js';
import { StoreCommandTiming, timeMongoCommands, timeRedisCommands } from './command-timing.js';

/**
 * Chooses the stores from configuration:
 * - `MONGODB_URI` → durable data (apps, keys, clients, accounts, tenants, grants, refresh tokens…) in MongoDB;
 * - `REDIS_URL` → short-lived state (sessions, interactions, codes, access tokens, one-time codes, counters) in Redis;
 * - only `MONGODB_URI` → everything in MongoDB (TTL indexes expire short-lived records);
 * - only `REDIS_URL` → short-lived state in Redis, durable state in the embedded store;
 * - neither → the embedded in-process store.
 * Connections are opened here once, waited for (with CONNECT_TIMEOUT_MS), and closed by `Stores.close()`.
 */
export async function openStores(config: Config, log: Logger): Promise<Stores> {
  const memoryOidc = new MemoryOidcStore({ maxRecords: config.MEMORY_STORE_MAX_RECORDS });
  const memoryEphemeral = new MemoryEphemeralStore();
  const closers: Array<() => Promise<void> | void> = [() => memoryOidc.close(), () => memoryEphemeral.close()];
  const checks: Array<{ name: string; up: () => boolean; ping: () => Promise<unknown> }> = [];
  const timing = new StoreCommandTiming();

  let durable: OpenedMongo['durable'] = { ...createMemoryRepositories(), oidcAdapter: memoryOidc.adapterFactory, oidcAccountIndex: memoryOidc.accountIndex };
  let shortLived: ShortLived = { ephemeral: memoryEphemeral, oidcAdapter: memoryOidc.adapterFactory, oidcAccountIndex: memoryOidc.accountIndex };
  const description: string[] = [];

  if (config.MONGODB_URI) {
    const mongo = await openMongo(config, log, timing);
    durable = mongo.durable;
    shortLived = mongo.shortLived;
    checks.push(mongo.check);
    closers.push(mongo.close);
    description.push('MongoDB (durable)');
  }

  let redis: RedisClient | undefined;
  let countRoundTrips = () => 0;
  if (config.REDIS_URL) {
    redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER, connectTimeoutMs: config.CONNECT_TIMEOUT_MS, commandTimeoutMs: 5_000, log });
    try {
      await waitForRedis(redis, config.CONNECT_TIMEOUT_MS);
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    const client = redis;
    timeRedisCommands(client, timing);
    const ephemeral = new RedisEphemeralStore(client);
    const oidc = new RedisOidcStore(client);
    shortLived = { ephemeral, oidcAdapter: oidc.adapterFactory, oidcAccountIndex: oidc.accountIndex };
    countRoundTrips = () => ephemeral.roundTrips + oidc.roundTrips;
    checks.push({ name: 'redis', up: () => client.status === 'ready', ping: () => client.ping() });
    closers.push(async () => { await client.quit().catch(() => client.disconnect()); });
    description.push(`Redis ${describeRedis(client)} (short-lived)`);
    if (!config.MONGODB_URI) description.push('embedded (durable: data is lost on restart)');
  }

  const embedded = !config.MONGODB_URI && !config.REDIS_URL;
  return {
    description: embedded ? 'embedded (in-process)' : description.join(', '),
    embedded,
    ...durable,
    ephemeral: shortLived.ephemeral,
    oidcAdapter: config.MONGODB_URI || config.REDIS_URL ? splitOidcAdapter(durable.oidcAdapter, shortLived.oidcAdapter) : memoryOidc.adapterFactory,
    oidcAccountIndex: config.MONGODB_URI || config.REDIS_URL ? splitAccountIndex(durable.oidcAccountIndex, shortLived.oidcAccountIndex) : memoryOidc.accountIndex,
    available: () => checks.every((c) => c.up()),
    redisRoundTrips: () => countRoundTrips(),
    onCommand: (listener) => timing.on(listener),
    async health() {
      const results = await Promise.all(
        checks.map(async (c) => [c.name, c.up() && (await c.ping().then(() => true, () => false)) ? 'up' : 'down'] as const),
      );
      const report = Object.fromEntries(results.length ? results : [['embedded', 'up' as const]]);
      return { ok: Object.values(report).every((v) => v === 'up'), checks: report };
    },
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}

interface ShortLived {
  ephemeral: EphemeralStore;
  oidcAdapter: OidcAdapterFactory;
  oidcAccountIndex: OidcAccountIndex;
}

interface OpenedMongo {
  durable: Omit<Stores, 'description' | 'embedded' | 'ephemeral' | 'health' | 'available' | 'redisRoundTrips' | 'onCommand' | 'close'>;
  shortLived: ShortLived;
  check: { name: string; up: () => boolean; ping: () => Promise<unknown> };
  close: () => Promise<void>;
}

/** Connects, waits (CONNECT_TIMEOUT_MS), creates the indexes when MONGODB_ENSURE_INDEXES is on (never drops any). */
async function openMongo(config: Config, log: Logger, timing: StoreCommandTiming): Promise<OpenedMongo> {
  const { createMongo, createMongoStores, ensureIndexes, waitForMongo } = await import('./mongo/index.js');
  const conn = createMongo(config.MONGODB_URI!, { connectTimeoutMs: config.CONNECT_TIMEOUT_MS, monitorCommands: true });
  timeMongoCommands(conn, timing);
  try {
    await waitForMongo(conn, config.CONNECT_TIMEOUT_MS);
    if (config.MONGODB_ENSURE_INDEXES) {
      await ensureIndexes(conn, { mode: 'create' });
      log.info('MongoDB indexes ensured');
    }
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
  const stores = createMongoStores(conn, { ownsConnection: true });
  const { ephemeral, oidcAdapter, oidcAccountIndex, apps, appKeys, clients, accounts, tenants, invitations, partners, outbox, audit, adminKeys, webhooks, webhookDeliveries, factors, resources, connections, identityLinks } = stores;
  return {
    durable: { apps, appKeys, clients, accounts, tenants, invitations, partners, outbox, audit, adminKeys, webhooks, webhookDeliveries, factors, resources, connections, identityLinks, oidcAdapter, oidcAccountIndex },
    shortLived: { ephemeral, oidcAdapter, oidcAccountIndex },
    check: { name: 'mongodb', up: () => stores.available(), ping: () => conn.db!.command({ ping: 1 }) },
    close: () => stores.close(),
  };
}
