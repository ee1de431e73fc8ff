/**
 * Runs oidc-provider's Adapter contract against every implementation: one short block per implementation.
 * Redis is a real redis-server (see `test/support/redis-server.ts`), a real Redis Cluster of 3 primaries + 3 replicas
 * (`test/support/redis-cluster.ts`) and a real Sentinel setup (`test/support/redis-sentinel.ts`).
 */
import { randomUUID } from 'node:crypto';
import { MemoryOidcStore } from '../../src/storage/memory/index.js';
import { createRedis, RedisOidcStore, waitForRedis } from '../../src/storage/redis/index.js';
import { startRedisServer } from '../support/redis-server.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { startRedisSentinel } from '../support/redis-sentinel.js';
import { createMongoStores } from '../../src/storage/mongo/index.js';
import { describeMongo } from '../support/mongo.js';
import { oidcAdapterContract } from './contracts/oidc-adapter.contract.js';

oidcAdapterContract('memory', async () => {
  const store = new MemoryOidcStore();
  return { factory: store.adapterFactory, close: () => store.close() };
});

oidcAdapterContract('redis', async () => {
  const server = await startRedisServer();
  const client = createRedis(server.url, { cluster: false, connectTimeoutMs: 2000 });
  await waitForRedis(client, 5000);
  const store = new RedisOidcStore(client, { prefix: `test:${randomUUID()}:` });
  return { factory: store.adapterFactory, close: async () => { client.disconnect(); await server.close(); } };
});

oidcAdapterContract('redis cluster', async () => {
  const cluster = await startRedisCluster();
  const client = createRedis(cluster.url, { cluster: true, connectTimeoutMs: 2000 });
  await waitForRedis(client, 5000);
  const store = new RedisOidcStore(client, { prefix: `test:${randomUUID()}:` });
  return { factory: store.adapterFactory, close: async () => { client.disconnect(); await cluster.close(); } };
});

oidcAdapterContract('redis sentinel', async () => {
  const sentinel = await startRedisSentinel();
  const client = createRedis(sentinel.url, { cluster: false, connectTimeoutMs: 2000 });
  await waitForRedis(client, 5000);
  const store = new RedisOidcStore(client, { prefix: `test:${randomUUID()}:` });
  return { factory: store.adapterFactory, close: async () => { client.disconnect(); await sentinel.close(); } };
});

// MongoDB: a real server (see `../support/mongo.ts`); the block's database is dropped afterwards.
describeMongo('mongo', (mongo) => {
  oidcAdapterContract('mongo', async () => ({ factory: createMongoStores(mongo.connection()).oidcAdapter, close: () => {} }));
});
