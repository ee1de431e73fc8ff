/**
 * The MongoDB storage backend: durable repositories, plus the ephemeral store and the oidc-provider adapter for
 * deployments that have MongoDB but no Redis. `storage/select.ts` decides which parts to use.
 */
import type { Connection } from 'mongoose';
import type { HealthReport, OidcAccountIndex, OidcAdapterFactory, Stores } from '../ports.js';
import { isMongoConnected, pingMongo } from './connection.js';
import { MongoEphemeralStore } from './ephemeral-store.js';
import { defineModels, type MongoModels } from './models.js';
import { MongoOidcStore } from './oidc-adapter.js';
import {
  MongoAccountRepository, MongoAppKeysRepository, MongoAppRepository, MongoAuditRepository, MongoClientRepository,
  MongoInvitationRepository, MongoOutboxRepository, MongoPartnerRepository, MongoTenantRepository,
} from './repositories.js';
import { MongoAdminKeyRepository, MongoWebhookDeliveryRepository, MongoWebhookRepository } from './event-repositories.js';
import { MongoFactorRepository } from './factor-repository.js';
import { MongoResourceRepository } from './resource-repository.js';
import { MongoConnectionRepository, MongoIdentityLinkRepository } from './connection-repositories.js';

export {
  createMongo, waitForMongo, isMongoConnected, pingMongo, redactMongoUri, mongoLocation, type CreateMongoOptions,
} from './connection.js';
export { ensureIndexes, type EnsureIndexesOptions } from './ensure-indexes.js';
export { defineModels, type MongoModels, type OidcRecordDoc, type EphemeralRecordDoc } from './models.js';
export { isDuplicateKeyError, isUnreachableError, translateMongoError } from './errors.js';
export {
  MongoAccountRepository, MongoAppKeysRepository, MongoAppRepository, MongoAuditRepository, MongoClientRepository,
  MongoEphemeralStore, MongoInvitationRepository, MongoOidcStore, MongoOutboxRepository, MongoPartnerRepository, MongoTenantRepository,
};

export interface CreateMongoStoresOptions {
  /** When true, `close()` closes the connection (the stores own it); otherwise the caller closes it. */
  ownsConnection?: boolean;
}

export interface MongoStores
  extends Pick<Stores, 'apps' | 'appKeys' | 'clients' | 'accounts' | 'tenants' | 'invitations' | 'partners' | 'outbox' | 'audit'
    | 'adminKeys' | 'webhooks' | 'webhookDeliveries' | 'factors' | 'resources' | 'connections' | 'identityLinks'> {
  /** Used only when no Redis is configured. */
  ephemeral: MongoEphemeralStore;
  /** Used only when no Redis is configured; `oidcAdapter` is its `adapterFactory`. */
  oidc: MongoOidcStore;
  oidcAdapter: OidcAdapterFactory;
  oidcAccountIndex: OidcAccountIndex;
  models: MongoModels;
  /** `{ ok, checks: { mongodb } }` from a ping round trip. */
  health(): Promise<HealthReport>;
  /** Synchronous: the driver currently has a connected server. */
  available(): boolean;
  close(): Promise<void>;
}

/**
 * Everything backed by `conn` (from `createMongo`). Building the stores does no I/O: indexes are the separate
 * `ensureIndexes()` step, and reachability is `waitForMongo()`.
 */
export function createMongoStores(conn: Connection, options: CreateMongoStoresOptions = {}): MongoStores {
  const models = defineModels(conn);
  const oidc = new MongoOidcStore(models.oidc);
  return {
    apps: new MongoAppRepository(models.apps),
    appKeys: new MongoAppKeysRepository(models.appKeys),
    clients: new MongoClientRepository(models.clients),
    accounts: new MongoAccountRepository(models.accounts),
    tenants: new MongoTenantRepository(models.tenants, models.memberships),
    invitations: new MongoInvitationRepository(models.invitations),
    partners: new MongoPartnerRepository(models.partners),
    outbox: new MongoOutboxRepository(models.outbox),
    audit: new MongoAuditRepository(models.audit),
    adminKeys: new MongoAdminKeyRepository(models.adminKeys),
    webhooks: new MongoWebhookRepository(models.webhooks),
    webhookDeliveries: new MongoWebhookDeliveryRepository(models.webhookDeliveries),
    factors: new MongoFactorRepository(models.factors),
    resources: new MongoResourceRepository(models.resources),
    connections: new MongoConnectionRepository(models.connections),
    identityLinks: new MongoIdentityLinkRepository(models.identityLinks),
    ephemeral: new MongoEphemeralStore(models.ephemeral),
    oidc,
    oidcAdapter: oidc.adapterFactory,
    oidcAccountIndex: oidc.accountIndex,
    models,
    async health() {
      const up = await pingMongo(conn);
      return { ok: up, checks: { mongodb: up ? 'up' : 'down' } };
    },
    available: () => isMongoConnected(conn),
    async close() {
      if (options.ownsConnection) await conn.close();
    },
  };
}
