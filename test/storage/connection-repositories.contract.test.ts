/** Runs the connection, identity-link and tenant-domain contracts against memory always and MongoDB when available. */
import { createMemoryRepositories } from '../../src/storage/memory/index.js';
import { createMongoStores } from '../../src/storage/mongo/index.js';
import { describeMongo } from '../support/mongo.js';
import { connectionRepositoryContract, identityLinkRepositoryContract, tenantDomainContract } from './contracts/connection-repositories.contract.js';

describe('memory connections', () => {
  connectionRepositoryContract(() => createMemoryRepositories().connections);
  identityLinkRepositoryContract(() => createMemoryRepositories().identityLinks);
  tenantDomainContract(() => createMemoryRepositories().tenants);
});

describeMongo('mongo connections', (mongo) => {
  const stores = async () => {
    await mongo.clear();
    return createMongoStores(mongo.connection());
  };
  connectionRepositoryContract(async () => (await stores()).connections);
  identityLinkRepositoryContract(async () => (await stores()).identityLinks);
  tenantDomainContract(async () => (await stores()).tenants);
});
