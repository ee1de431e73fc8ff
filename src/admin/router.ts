/**
 * Admin API `/admin/v1`: JSON, `Authorization: Bearer <ADMIN_API_KEY>`. Thin routes: validate (schemas.ts), call a
 * service, present the record. Errors are rendered by the shared error handler.
 */
import { BRANDING_JSON_LIMIT_BYTES } from '../http/body.js';
import type { Context, Next } from 'koa';
import type { Config } from '../../config/index.js';
import { issuerFor } from '../../config/index.js';
import type { AppService } from '../apps/app-service.js';
import type { ClientService } from '../clients/client-service.js';
import type { AccountService } from '../accounts/account-service.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ProviderPool } from '../provider/provider-pool.js';
import type { AppRecord, Stores } from '../storage/ports.js';
import { sha256, safeEqual } from '../crypto/random.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import type { AdminKeyService } from './admin-keys.js';
import { registerKeyRoutes } from './key-routes.js';
import { presentAccount } from '../accounts/account-service.js';
import { presentClient } from '../clients/client-service.js';
import { presentMembership, presentTenant } from '../tenants/tenant-service.js';
import { RouteRegistry } from './route-registry.js';
import type { AdminOperations } from './operations.js';
import type { AccountSessions } from '../sessions/account-sessions.js';
import type { Offboarding } from '../sessions/offboarding.js';
import { registerAuditRoutes } from './audit-routes.js';
import { recordAdminChanges } from './change-audit.js';
import { BOOTSTRAP_PRINCIPAL, mayUseApp, principalOf, refusal } from './admin-principal.js';
import {
  createAccountSchema, createAppSchema, createClientSchema, createTenantSchema, listAccountsQuery, membershipSchema,
  updateAccountSchema, updateAppSchema, updateClientSchema, updateTenantSchema,
} from './schemas.js';

/** The services the Admin API calls. */
export interface AdminServices {
  apps: AppService;
  clients: ClientService;
  accounts: AccountService;
  tenants: TenantService;
  audit: AuditLog;
  adminKeys: AdminKeyService;
  sessions: AccountSessions;
  offboarding: Offboarding;
}

export interface AdminDeps {
  services: AdminServices;
  stores: Stores;
  config: Config;
  adminKey: string;
  pool: ProviderPool;
  /** The operations shared with the admin console (one set of rules). */
  operations: AdminOperations;
  /** Extra routes registered by other modules (invitations, outbox). */
  extend?: (registry: RouteRegistry, helpers: AdminHelpers) => void;
}

export interface AdminHelpers {
  app(params: Record<string, string>): Promise<AppRecord>;
  presentApp(app: AppRecord): Record<string, unknown>;
}

/**
 * Bearer check: the bootstrap key (constant-time, both sides hashed first so lengths never leak) or a managed key.
 * Sets `ctx.state.principal` for authorization and the change audit.
 */
function requireAdminKey(adminKey: string, keys: AdminKeyService) {
  const expected = sha256(adminKey);
  return async (ctx: Context, next: Next) => {
    const [scheme, token] = (ctx.get('authorization') || '').split(' ');
    const bearer = scheme?.toLowerCase() === 'bearer' && token ? token : undefined;
    const principal = !bearer ? undefined : safeEqual(sha256(bearer), expected) ? BOOTSTRAP_PRINCIPAL : await keys.authenticate(bearer);
    if (!principal) {
      ctx.set('WWW-Authenticate', 'Bearer realm="portcullis-admin"');
      throw new UnauthorizedError('A valid admin API key is required (Authorization: Bearer <key>).');
    }
    ctx.state.principal = principal;
    await next();
  };
}

/** Scopes and apps of the calling key (403 outside them). */
function authorizeRoute(ctx: Context, route: { tag: string; method: string; path: string; params: Record<string, string> }): void {
  const principal = principalOf(ctx);
  const reason = principal ? refusal(principal, { ...route, slug: route.params.slug }) : 'No API key.';
  if (reason) throw new ForbiddenError(reason);
}

export function adminRouter(deps: AdminDeps) {
  const { services, config } = deps;
  const registry = new RouteRegistry('/admin/v1', authorizeRoute);
  const api = registry.router;
  const presentApp = (app: AppRecord) => ({
    slug: app.slug,
    name: app.name,
    issuer: issuerFor(config, app.slug),
    settings: app.settings,
    created_at: app.createdAt.toISOString(),
    updated_at: app.updatedAt.toISOString(),
  });
  const helpers: AdminHelpers = { app: (params) => services.apps.require(params.slug), presentApp };
  const appOf = helpers.app;

  api.get('/openapi.json', (ctx) => {
    ctx.body = registry.openApi({ title: 'Portcullis Admin API', version: 'v1', serverUrl: `${config.publicUrl.origin}/admin/v1` });
  });
  api.use(requireAdminKey(deps.adminKey, services.adminKeys));
  api.use(recordAdminChanges(services.audit, (slug) => services.apps.find(slug)));
  const operations = deps.operations;
  /** The key behind a change, for the domain events recorded by the routes. */
  const actor = (ctx: Context) => principalOf(ctx)?.keyId;

  // Apps
  registry.add({ method: 'post', path: '/apps', tag: 'apps', summary: 'Create an app (its own issuer, keys and accounts)', body: createAppSchema, status: 201, bodyLimit: BRANDING_JSON_LIMIT_BYTES,
    handler: async ({ body }) => presentApp(await services.apps.create(body)) });
  registry.add({ method: 'get', path: '/apps', tag: 'apps', summary: 'List apps',
    handler: async ({ ctx }) => (await services.apps.list()).filter((a) => mayUseApp(principalOf(ctx)!, a.slug)).map(presentApp) });
  registry.add({ method: 'get', path: '/apps/:slug', tag: 'apps', summary: 'Get an app',
    handler: async ({ params }) => presentApp(await appOf(params)) });
  registry.add({ method: 'patch', path: '/apps/:slug', tag: 'apps', summary: 'Change an app\'s name or settings', body: updateAppSchema, bodyLimit: BRANDING_JSON_LIMIT_BYTES,
    handler: async ({ params, body }) => presentApp(await services.apps.update(params.slug, body)) });
  registry.add({ method: 'delete', path: '/apps/:slug', tag: 'apps', summary: 'Delete an app and everything in it', status: 204,
    handler: async ({ params }) => services.apps.delete(params.slug) });
  registry.add({ method: 'post', path: '/apps/:slug/keys/rotate', tag: 'apps', summary: 'Rotate the app\'s signing keys (previous keys stay published)',
    handler: async ({ params }) => presentApp(await services.apps.rotateKeys(params.slug)) });

  // Clients
  registry.add({ method: 'post', path: '/apps/:slug/clients', tag: 'clients', summary: 'Register a client app; the secret is shown only in this answer', body: createClientSchema, status: 201,
    handler: async ({ ctx, params, body }) => {
      const { client, secret } = await operations.createClient(await appOf(params), body, actor(ctx));
      return { ...presentClient(client), ...(secret ? { client_secret: secret } : {}) };
    } });
  registry.add({ method: 'get', path: '/apps/:slug/clients', tag: 'clients', summary: 'List client apps',
    handler: async ({ params }) => (await services.clients.list(await appOf(params))).map(presentClient) });
  registry.add({ method: 'get', path: '/apps/:slug/clients/:client_id', tag: 'clients', summary: 'Get a client app',
    handler: async ({ params }) => presentClient(await services.clients.require(await appOf(params), params.client_id)) });
  registry.add({ method: 'patch', path: '/apps/:slug/clients/:client_id', tag: 'clients', summary: 'Change a client app', body: updateClientSchema,
    handler: async ({ params, body }) => presentClient(await operations.updateClient(await appOf(params), params.client_id, body)) });
  registry.add({ method: 'delete', path: '/apps/:slug/clients/:client_id', tag: 'clients', summary: 'Delete a client app', status: 204,
    handler: async ({ ctx, params }) => {
      const app = await appOf(params);
      await services.clients.delete(app, params.client_id);
      await services.audit.record(app, 'client.deleted', { actor: actor(ctx), detail: { client_id: params.client_id } });
    } });
  registry.add({ method: 'post', path: '/apps/:slug/clients/:client_id/secret', tag: 'clients', summary: 'Rotate the client secret; the new one is shown only in this answer',
    handler: async ({ params }) => {
      const { client, secret } = await services.clients.rotateSecret(await appOf(params), params.client_id);
      return { ...presentClient(client), client_secret: secret };
    } });

  // Accounts
  registry.add({ method: 'post', path: '/apps/:slug/accounts', tag: 'accounts', summary: 'Create an account', body: createAccountSchema, status: 201,
    handler: async ({ ctx, params, body }) => presentAccount(await operations.createAccount(await appOf(params), body, actor(ctx))) });
  registry.add({ method: 'get', path: '/apps/:slug/accounts', tag: 'accounts', summary: 'List accounts (filter by email; page with limit/after)', query: listAccountsQuery,
    handler: async ({ params, query }) => (await services.accounts.list(await appOf(params), query)).map(presentAccount) });
  registry.add({ method: 'get', path: '/apps/:slug/accounts/:id', tag: 'accounts', summary: 'Get an account',
    handler: async ({ params }) => presentAccount(await services.accounts.require(await appOf(params), params.id)) });
  registry.add({ method: 'patch', path: '/apps/:slug/accounts/:id', tag: 'accounts', summary: 'Change an account (password null removes it)', body: updateAccountSchema,
    handler: async ({ ctx, params, body }) => presentAccount(await operations.updateAccount(await appOf(params), params.id, body, actor(ctx), ctx.state.ip as string | undefined)) });
  registry.add({ method: 'delete', path: '/apps/:slug/accounts/:id', tag: 'accounts', status: 204,
    summary: 'Delete an account: ends its sessions and tokens, erases its personal data, factors and memberships (the audit log keeps account.deleted)',
    handler: async ({ ctx, params }) => {
      const app = await appOf(params);
      await services.offboarding.delete(app, params.id, { by: 'admin', actor: actor(ctx), ip: ctx.state.ip as string | undefined });
    } });
  registry.add({ method: 'get', path: '/apps/:slug/accounts/:id/tenants', tag: 'accounts', summary: 'Tenants of an account with its roles',
    handler: async ({ params }) => {
      const app = await appOf(params);
      await services.accounts.require(app, params.id);
      return (await services.tenants.membershipsOf(app, params.id)).map((m) => ({ ...presentTenant(m.tenant), roles: m.roles }));
    } });

  // Tenants and memberships
  registry.add({ method: 'post', path: '/apps/:slug/tenants', tag: 'tenants', summary: 'Create a tenant', body: createTenantSchema, status: 201, bodyLimit: BRANDING_JSON_LIMIT_BYTES,
    handler: async ({ ctx, params, body }) => presentTenant(await operations.createTenant(await appOf(params), body, actor(ctx))) });
  registry.add({ method: 'get', path: '/apps/:slug/tenants', tag: 'tenants', summary: 'List tenants',
    handler: async ({ params }) => (await services.tenants.list(await appOf(params))).map(presentTenant) });
  registry.add({ method: 'get', path: '/apps/:slug/tenants/:tenant', tag: 'tenants', summary: 'Get a tenant (by id or slug)',
    handler: async ({ params }) => presentTenant(await services.tenants.require(await appOf(params), params.tenant)) });
  registry.add({ method: 'patch', path: '/apps/:slug/tenants/:tenant', tag: 'tenants', summary: 'Change a tenant', body: updateTenantSchema, bodyLimit: BRANDING_JSON_LIMIT_BYTES,
    handler: async ({ ctx, params, body }) => {
      const app = await appOf(params);
      const tenant = await services.tenants.update(app, params.tenant, body);
      await services.audit.record(app, 'tenant.updated', { tenantId: tenant.id, actor: actor(ctx), detail: { slug: tenant.slug, name: tenant.name, fields: Object.keys(body).join(' ') } });
      return presentTenant(tenant);
    } });
  registry.add({ method: 'delete', path: '/apps/:slug/tenants/:tenant', tag: 'tenants', summary: 'Delete a tenant and its memberships', status: 204,
    handler: async ({ ctx, params }) => {
      const app = await appOf(params);
      const tenant = await services.tenants.require(app, params.tenant);
      await services.tenants.delete(app, tenant.id);
      await services.audit.record(app, 'tenant.deleted', { tenantId: tenant.id, actor: actor(ctx), detail: { slug: tenant.slug } });
    } });
  registry.add({ method: 'get', path: '/apps/:slug/tenants/:tenant/members', tag: 'tenants', summary: 'List members with their roles',
    handler: async ({ params }) => (await services.tenants.members(await appOf(params), params.tenant)).map(presentMembership) });
  registry.add({ method: 'put', path: '/apps/:slug/tenants/:tenant/members/:accountId', tag: 'tenants', summary: 'Add a member or replace its roles', body: membershipSchema,
    handler: async ({ ctx, params, body }) => presentMembership(await operations.putMember(await appOf(params), params.tenant, params.accountId, body.roles, actor(ctx))) });
  registry.add({ method: 'delete', path: '/apps/:slug/tenants/:tenant/members/:accountId', tag: 'tenants', summary: 'Remove a member', status: 204,
    handler: async ({ ctx, params }) => operations.removeMember(await appOf(params), params.tenant, params.accountId, actor(ctx)) });

  // Audit
  registerAuditRoutes(registry, helpers, services.audit);
  registerKeyRoutes(registry, services.adminKeys);

  deps.extend?.(registry, helpers);
  return api;
}
