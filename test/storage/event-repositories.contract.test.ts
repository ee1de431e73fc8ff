/**
 * The key, webhook and webhook delivery repository contracts against every store: memory always, MongoDB when a real
 * server is available (otherwise skipped with one line; see `test/support/mongo.ts`).
 */
import { createMemoryRepositories } from '../../src/storage/memory/index.js';
import { createMongoStores } from '../../src/storage/mongo/index.js';
import { describeMongo } from '../support/mongo.js';
import { adminKeyRepositoryContract, webhookDeliveryRepositoryContract, webhookRepositoryContract } from './contracts/event-repositories.contract.js';

describe('memory event repositories', () => {
  adminKeyRepositoryContract(() => createMemoryRepositories().adminKeys);
  webhookRepositoryContract(() => createMemoryRepositories().webhooks);
  webhookDeliveryRepositoryContract(() => createMemoryRepositories().webhookDeliveries);
});

describeMongo('mongo event repositories', (mongo) => {
  const emptyStores = async () => {
    await mongo.clear();
    return createMongoStores(mongo.connection());
  };
  adminKeyRepositoryContract(async () => (await emptyStores()).adminKeys);
  webhookRepositoryContract(async () => (await emptyStores()).webhooks);
  webhookDeliveryRepositoryContract(async () => (await emptyStores()).webhookDeliveries);
});
