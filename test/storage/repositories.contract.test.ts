/**
 * Runs the durable repository contracts against every implementation: memory always, MongoDB when a real server is
 * available (see `test/support/mongo.ts`). Each test gets empty storage: a fresh memory repository, or emptied
 * collections in the block's own database. The MongoDB failure modes that need no server run always.
 */
import { createServer } from 'node:net';
import mongoose from 'mongoose';
import { ConflictError, ServiceUnavailableError } from '../../src/errors.js';
import { createMemoryRepositories } from '../../src/storage/memory/index.js';
import { createMongo, createMongoStores, translateMongoError, waitForMongo } from '../../src/storage/mongo/index.js';
import { describeMongo } from '../support/mongo.js';
import {
  accountRepositoryContract, appKeysRepositoryContract, appRepositoryContract, auditRepositoryContract,
  clientRepositoryContract, invitationRepositoryContract, outboxRepositoryContract, partnerRepositoryContract, tenantRepositoryContract,
} from './contracts/repositories.contract.js';

describe('memory repositories', () => {
  appRepositoryContract(() => createMemoryRepositories().apps);
  appKeysRepositoryContract(() => createMemoryRepositories().appKeys);
  clientRepositoryContract(() => createMemoryRepositories().clients);
  accountRepositoryContract(() => createMemoryRepositories().accounts);
  tenantRepositoryContract(() => createMemoryRepositories().tenants);
  invitationRepositoryContract(() => createMemoryRepositories().invitations);
  partnerRepositoryContract(() => createMemoryRepositories().partners);
  outboxRepositoryContract(() => createMemoryRepositories().outbox);
  auditRepositoryContract(() => createMemoryRepositories().audit);
});

describeMongo('mongo repositories', (mongo) => {
  const emptyStores = async () => {
    await mongo.clear();
    return createMongoStores(mongo.connection());
  };
  appRepositoryContract(async () => (await emptyStores()).apps);
  appKeysRepositoryContract(async () => (await emptyStores()).appKeys);
  clientRepositoryContract(async () => (await emptyStores()).clients);
  accountRepositoryContract(async () => (await emptyStores()).accounts);
  tenantRepositoryContract(async () => (await emptyStores()).tenants);
  invitationRepositoryContract(async () => (await emptyStores()).invitations);
  partnerRepositoryContract(async () => (await emptyStores()).partners);
  outboxRepositoryContract(async () => (await emptyStores()).outbox);
  auditRepositoryContract(async () => (await emptyStores()).audit);
});

/**
 * The contract's failure modes that need no server: an unreachable MongoDB surfaces as ServiceUnavailableError (a
 * real driver talking to a closed port), and a duplicate key error from the server becomes ConflictError.
 */
describe('mongo failure modes', () => {
  it('reports an unreachable server without credentials, and operations fail with ServiceUnavailableError', async () => {
    const port = await closedPort();
    const conn = createMongo(`mongodb://portcullis:s3cret@127.0.0.1:${port}/portcullis?authSource=admin`, { connectTimeoutMs: 300 });
    try {
      const failure = await waitForMongo(conn, 5000).then(() => undefined, (error: Error) => error);
      expect(failure?.message).toBe(`cannot reach MongoDB at mongodb://127.0.0.1:${port}/portcullis`);
      const stores = createMongoStores(conn);
      expect(stores.available()).toBe(false);
      await expect(stores.apps.findById('app-1')).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(stores.ephemeral.increment('app:app-1:n', 60)).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(stores.oidcAdapter('app-1')('Session').find('s1')).rejects.toBeInstanceOf(ServiceUnavailableError);
      expect(await stores.health()).toEqual({ ok: false, checks: { mongodb: 'down' } });
    } finally {
      await conn.close();
    }
  });

  it('turns a duplicate key error into ConflictError naming the field', () => {
    const duplicate = (keyPattern: Record<string, number>) =>
      translateMongoError(new mongoose.mongo.MongoServerError({ message: 'E11000 duplicate key error', code: 11000, keyPattern }));
    const conflict = (description: string) => expect.objectContaining({ status: 409, error_description: description });
    expect(duplicate({ slug: 1 })).toBeInstanceOf(ConflictError);
    expect(duplicate({ slug: 1 })).toEqual(conflict('slug is already taken.'));
    expect(duplicate({ appId: 1, uniqueEmail: 1 })).toEqual(conflict('email is already taken.'));
    expect(duplicate({ appId: 1, id: 1 })).toEqual(conflict('A record with this identifier already exists.'));
    const other = new Error('boom');
    expect(translateMongoError(other)).toBe(other);
  });
});

/** A port nothing listens on: the driver's connection attempts are refused at once. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
