/** Runs the FactorRepository contract against memory always and MongoDB when a real server is available. */
import { MemoryFactorRepository } from '../../src/storage/memory/factor-repository.js';
import { createMongoStores } from '../../src/storage/mongo/index.js';
import { describeMongo } from '../support/mongo.js';
import { factorRepositoryContract } from './contracts/factor-repository.contract.js';

describe('memory factors', () => {
  factorRepositoryContract(() => new MemoryFactorRepository());
});

describeMongo('mongo factors', (mongo) => {
  factorRepositoryContract(async () => {
    await mongo.clear();
    return createMongoStores(mongo.connection()).factors;
  });
});
