/**
 * Runs oidc-provider's Adapter contract against every implementation: one short block per implementation.
 * Redis runs on real servers in every supported topology (see `test/support/redis-topologies.ts`).
 */
import { MemoryOidcStore } from '../../src/storage/memory/index.js';
import { RedisOidcStore } from '../../src/storage/redis/index.js';
import { connectTopology, REDIS_TOPOLOGIES } from '../support/redis-topologies.js';
import { createMongoStores } from '../../src/storage/mongo/index.js';
import { describeMongo } from '../support/mongo.js';
import { oidcAdapterContract } from './contracts/oidc-adapter.contract.js';

oidcAdapterContract('memory', async () => {
  const store = new MemoryOidcStore();
  return { factory: store.adapterFactory, close: () => store.close() };
});

for (const topology of REDIS_TOPOLOGIES) {
  oidcAdapterContract(topology.name, async () => {
    const { client, prefix, close } = await connectTopology(topology);
    const store = new RedisOidcStore(client, { prefix });
    return { factory: store.adapterFactory, close };
  });
}

// MongoDB: a real server (see `../support/mongo.ts`); the block's database is dropped afterwards.
describeMongo('mongo', (mongo) => {
  oidcAdapterContract('mongo', async () => ({ factory: createMongoStores(mongo.connection()).oidcAdapter, close: () => {} }));
});
