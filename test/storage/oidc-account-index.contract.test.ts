/**
 * Runs the OIDC account index contract against every implementation: memory, Redis in every supported topology,
 * MongoDB when a server is available, and the split store (durable models in one store, the rest in another).
 */
import { MemoryOidcStore } from '../../src/storage/memory/index.js';
import { RedisOidcStore } from '../../src/storage/redis/index.js';
import { splitAccountIndex, splitOidcAdapter } from '../../src/storage/split-oidc-adapter.js';
import { connectTopology, REDIS_TOPOLOGIES } from '../support/redis-topologies.js';
import { createMongoStores } from '../../src/storage/mongo/index.js';
import { describeMongo } from '../support/mongo.js';
import { oidcAccountIndexContract } from './contracts/oidc-account-index.contract.js';

oidcAccountIndexContract('memory', async () => {
  const store = new MemoryOidcStore();
  return { factory: store.adapterFactory, index: store.accountIndex, close: () => store.close() };
});

for (const topology of REDIS_TOPOLOGIES) {
  oidcAccountIndexContract(topology.name, async () => {
    const { client, prefix, close } = await connectTopology(topology);
    const store = new RedisOidcStore(client, { prefix });
    return { factory: store.adapterFactory, index: store.accountIndex, close };
  });
}

oidcAccountIndexContract('split (memory durable, memory short-lived)', async () => {
  const [durable, shortLived] = [new MemoryOidcStore(), new MemoryOidcStore()];
  return {
    factory: splitOidcAdapter(durable.adapterFactory, shortLived.adapterFactory),
    index: splitAccountIndex(durable.accountIndex, shortLived.accountIndex),
    close: () => { durable.close(); shortLived.close(); },
  };
});

describeMongo('mongo', (mongo) => {
  oidcAccountIndexContract('mongo', async () => {
    const stores = createMongoStores(mongo.connection());
    return { factory: stores.oidcAdapter, index: stores.oidcAccountIndex, close: () => {} };
  });
});
