/**
 * Runs oidc-provider's Adapter contract against every implementation: one short block per implementation.
 * Redis is a real redis-server (see `test/support/redis-server.ts`).
 */
import { randomUUID } from 'node:crypto';
import { MemoryOidcStore } from '../../src/storage/memory/index.js';
import { createRedis, RedisOidcStore, waitForRedis } from '../../src/storage/redis/index.js';
import { startRedisServer } from '../support/redis-server.js';
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

// ── MongoDB: the MongoDB implementation adds its block here, wrapped in `describeMongo(…)` from
// `../support/mongo.js` (one short block, like the two above). ──
