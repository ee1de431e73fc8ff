/** Runs the ResourceRepository contract against memory always and MongoDB when a real server is available. */
import { MemoryResourceRepository } from '../../src/storage/memory/resource-repository.js';
import { createMongoStores } from '../../src/storage/mongo/index.js';
import { describeMongo } from '../support/mongo.js';
import { resourceRepositoryContract } from './contracts/resource-repository.contract.js';

describe('memory resources', () => {
  resourceRepositoryContract(() => new MemoryResourceRepository());
});

describeMongo('mongo resources', (mongo) => {
  resourceRepositoryContract(async () => {
    await mongo.clear();
    return createMongoStores(mongo.connection()).resources;
  });
});
