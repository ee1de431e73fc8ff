/**
 * Administrative operations shared by the Admin API (`router.ts`) and the admin console (`src/console/`): one set of
 * rules and one set of domain audit events, whichever door an operator comes through. Inputs are already validated
 * by the caller's zod schema (`schemas.ts`); `actor` names who acts (an Admin API key id, or `console:{account id}`).
 */
import type { z } from 'zod';
import type { AccountService } from '../accounts/account-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ClientService } from '../clients/client-service.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { ProviderPool } from '../provider/provider-pool.js';
import type { AccountRecord, AppRecord, ClientRecord, MembershipRecord, TenantRecord } from '../storage/ports.js';
import { InvalidRequestError, templatedIssue } from '../errors.js';
import { providerMetadataCheck } from '../provider/client-metadata-check.js';
import type { AccountSessions } from '../sessions/account-sessions.js';
import type { Offboarding } from '../sessions/offboarding.js';
import type { createAccountSchema, createClientSchema, createTenantSchema, updateAccountSchema, updateClientSchema } from './schemas.js';

export interface OperationDeps {
  clients: ClientService;
  accounts: AccountService;
  tenants: TenantService;
  audit: AuditLog;
  pool: ProviderPool;
  sessions: AccountSessions;
  offboarding: Offboarding;
  /** Removes every second factor of an account (the factor service's reset, which records `mfa.removed`). */
  resetFactors: (app: AppRecord, accountId: string, by: string) => Promise<number>;
}

export class AdminOperations {
  constructor(private readonly deps: OperationDeps) {}

  /** The id of the tenant a client is put in (by id or slug); a 400 naming `tenant` when the app has no such tenant. */
  private async clientTenant(app: AppRecord, tenant: string | undefined): Promise<string | undefined> {
    if (tenant === undefined) return undefined;
    const found = await this.deps.tenants.find(app, tenant);
    if (!found) throw new InvalidRequestError('No such tenant in this app.', [templatedIssue('tenant', 'no tenant "{{tenant}}"', { tenant })]);
    return found.id;
  }

  /** Registers a client app; the secret is returned here only (it is stored encrypted). */
  async createClient(app: AppRecord, body: z.output<typeof createClientSchema>, actor?: string): Promise<{ client: ClientRecord; secret?: string }> {
    const { tenant, ...input } = body;
    const created = await this.deps.clients.create(app, { ...input, tenant_id: await this.clientTenant(app, tenant) }, providerMetadataCheck(this.deps.pool, app));
    await this.deps.audit.record(app, 'client.created', { actor, detail: { client_id: created.client.clientId, name: created.client.name } });
    return created;
  }

  async updateClient(app: AppRecord, clientId: string, body: z.output<typeof updateClientSchema>): Promise<ClientRecord> {
    const { tenant, ...patch } = body;
    return this.deps.clients.update(app, clientId, { ...patch, tenant_id: await this.clientTenant(app, tenant) }, providerMetadataCheck(this.deps.pool, app));
  }

  async createAccount(app: AppRecord, body: z.output<typeof createAccountSchema>, actor?: string): Promise<AccountRecord> {
    const account = await this.deps.accounts.create(app, { ...body, phone: body.phone_number, phone_verified: body.phone_number_verified });
    await this.deps.audit.record(app, 'account.created', { accountId: account.id, actor, detail: { by: 'admin' } });
    return account;
  }

  /**
   * Changes an account; deactivating ends every session and token (src/sessions/offboarding.ts), and status and
   * password changes are recorded as their own events. Answers the account as stored afterwards.
   */
  async updateAccount(app: AppRecord, id: string, body: z.output<typeof updateAccountSchema>, actor?: string, ip?: string): Promise<AccountRecord> {
    const { accounts, audit } = this.deps;
    const before = await accounts.require(app, id);
    const account = await accounts.update(app, id, { ...body, phone: body.phone_number, phone_verified: body.phone_number_verified });
    const by = { accountId: account.id, actor };
    await audit.record(app, 'account.updated', { ...by, detail: { by: 'admin', fields: Object.keys(body).join(' ') } });
    const stored = await this.deps.offboarding.afterStatusChange(app, before, account, { by: 'admin', actor, ip });
    if (body.password !== undefined) await audit.record(app, 'account.password_changed', { ...by, detail: { by: 'admin', removed: body.password === null } });
    return stored;
  }

  /** Removes every second factor of an account ("lost my phone"); how many were removed. */
  async resetFactors(app: AppRecord, id: string, actor?: string): Promise<number> {
    await this.deps.accounts.require(app, id);
    return this.deps.resetFactors(app, id, actor ?? 'admin');
  }

  /** Sign out everywhere: every session, grant and token the account holds now (recorded as `session.revoked`). */
  async endSignIns(app: AppRecord, id: string, actor?: string, ip?: string): Promise<void> {
    await this.deps.accounts.require(app, id);
    await this.deps.offboarding.signOutEverywhere(app, id, { by: 'admin', actor, ip });
  }

  async createTenant(app: AppRecord, body: z.output<typeof createTenantSchema>, actor?: string): Promise<TenantRecord> {
    const tenant = await this.deps.tenants.create(app, body);
    await this.deps.audit.record(app, 'tenant.created', { tenantId: tenant.id, actor, detail: { slug: tenant.slug, name: tenant.name } });
    return tenant;
  }

  /** Adds a member or replaces its roles. */
  async putMember(app: AppRecord, tenantRef: string, accountId: string, roles: string[], actor?: string): Promise<MembershipRecord> {
    const { tenants, audit } = this.deps;
    const tenant = await tenants.require(app, tenantRef);
    const existed = (await tenants.membershipsOf(app, accountId)).some((m) => m.tenant.id === tenant.id);
    const membership = await tenants.putMember(app, tenant.id, accountId, roles);
    await audit.record(app, existed ? 'membership.updated' : 'membership.added', {
      tenantId: tenant.id, accountId, actor, detail: { roles: membership.roles.join(' ') },
    });
    return membership;
  }

  /** Removes a member; tokens issued for a sign-in to this tenant end too (not only the next token's tenant claims). */
  async removeMember(app: AppRecord, tenantRef: string, accountId: string, actor?: string): Promise<void> {
    const tenant = await this.deps.tenants.require(app, tenantRef);
    await this.deps.tenants.removeMember(app, tenant.id, accountId);
    const revoked = await this.deps.sessions.revokeTenantGrants(app, accountId, tenant.id);
    await this.deps.audit.record(app, 'membership.removed', { tenantId: tenant.id, accountId, actor, detail: { grants_revoked: revoked } });
  }
}
