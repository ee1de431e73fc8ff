/**
 * Runs the EphemeralStore contract against every implementation: one short block per implementation.
 * Redis is a real redis-server (see `test/support/redis-server.ts`).
 */
import { randomUUID } from 'node:crypto';
import { MemoryEphemeralStore } from '../../src/storage/memory/index.js';
import { createRedis, RedisEphemeralStore, waitForRedis } from '../../src/storage/redis/index.js';
import { startRedisServer } from '../support/redis-server.js';
import { ephemeralStoreContract } from './contracts/ephemeral-store.contract.js';

ephemeralStoreContract('memory', async () => {
  const store = new MemoryEphemeralStore();
  return { store, close: () => store.close() };
});

ephemeralStoreContract('redis', async () => {
  const server = await startRedisServer();
  const client = createRedis(server.url, { cluster: false, connectTimeoutMs: 2000 });
  await waitForRedis(client, 5000);
  const store = new RedisEphemeralStore(client, { prefix: `test:${randomUUID()}:` });
  return { store, close: async () => { client.disconnect(); await server.close(); } };
});

// ── MongoDB: the MongoDB implementation adds its block here, wrapped in `describeMongo(…)` from
// `../support/mongo.js` (one short block, like the two above). ──
