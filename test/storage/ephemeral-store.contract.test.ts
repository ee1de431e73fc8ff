/**
 * Runs the EphemeralStore contract against every implementation: one short block per implementation.
 * Redis runs on real servers in every supported topology (see `test/support/redis-topologies.ts`).
 */
import { MemoryEphemeralStore } from '../../src/storage/memory/index.js';
import { RedisEphemeralStore } from '../../src/storage/redis/index.js';
import { connectTopology, REDIS_TOPOLOGIES } from '../support/redis-topologies.js';
import { createMongoStores } from '../../src/storage/mongo/index.js';
import { describeMongo } from '../support/mongo.js';
import { ephemeralStoreContract } from './contracts/ephemeral-store.contract.js';

ephemeralStoreContract('memory', async () => {
  const store = new MemoryEphemeralStore();
  return { store, close: () => store.close() };
});

for (const topology of REDIS_TOPOLOGIES) {
  ephemeralStoreContract(topology.name, async () => {
    const { client, prefix, close } = await connectTopology(topology);
    const store = new RedisEphemeralStore(client, { prefix });
    return { store, close };
  });
}

// MongoDB: a real server (see `../support/mongo.ts`); the block's database is dropped afterwards.
describeMongo('mongo', (mongo) => {
  ephemeralStoreContract('mongo', async () => ({ store: createMongoStores(mongo.connection()).ephemeral, close: () => {} }));
});
