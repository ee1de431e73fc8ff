import type { Stores } from '../ports.js';
import { MemoryEphemeralStore } from './ephemeral-store.js';
import { MemoryOidcStore } from './oidc-adapter.js';
import { MemoryFactorRepository } from './factor-repository.js';
import { MemoryResourceRepository } from './resource-repository.js';
import { MemoryConnectionRepository, MemoryIdentityLinkRepository } from './connection-repositories.js';
import {
  MemoryAccountRepository, MemoryAppKeysRepository, MemoryAppRepository, MemoryAuditRepository, MemoryClientRepository,
  MemoryInvitationRepository, MemoryOutboxRepository, MemoryPartnerRepository, MemoryTenantRepository,
} from './repositories.js';
import { MemoryAdminKeyRepository, MemoryWebhookDeliveryRepository, MemoryWebhookRepository } from './event-repositories.js';

export { MemoryEphemeralStore, MemoryOidcStore };

/** The durable repositories of the embedded store. */
export function createMemoryRepositories() {
  return {
    apps: new MemoryAppRepository(),
    appKeys: new MemoryAppKeysRepository(),
    clients: new MemoryClientRepository(),
    accounts: new MemoryAccountRepository(),
    tenants: new MemoryTenantRepository(),
    invitations: new MemoryInvitationRepository(),
    partners: new MemoryPartnerRepository(),
    outbox: new MemoryOutboxRepository(),
    audit: new MemoryAuditRepository(),
    adminKeys: new MemoryAdminKeyRepository(),
    webhooks: new MemoryWebhookRepository(),
    webhookDeliveries: new MemoryWebhookDeliveryRepository(),
    factors: new MemoryFactorRepository(),
    resources: new MemoryResourceRepository(),
    connections: new MemoryConnectionRepository(),
    identityLinks: new MemoryIdentityLinkRepository(),
  };
}

/** Everything in this process: the default when neither MONGODB_URI nor REDIS_URL is set. */
export function createMemoryStores(): Stores {
  const ephemeral = new MemoryEphemeralStore();
  const oidc = new MemoryOidcStore();
  return {
    description: 'embedded (in-process)',
    embedded: true,
    ...createMemoryRepositories(),
    ephemeral,
    oidcAdapter: oidc.adapterFactory,
    oidcAccountIndex: oidc.accountIndex,
    async health() { return { ok: true, checks: { embedded: 'up' } }; },
    available: () => true,
    redisRoundTrips: () => 0,
    onCommand: () => undefined,
    async close() { ephemeral.close(); oidc.close(); },
  };
}
