/** Admin API routes of upstream connections and of accounts' linked identities (registered through `adminRouter`'s `extend`). */
import type { AdminHelpers } from '../admin/router.js';
import type { RouteRegistry } from '../admin/route-registry.js';
import type { AccountService } from '../accounts/account-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import { InvalidRequestError, templatedIssue } from '../errors.js';
import type { AppRecord } from '../storage/ports.js';
import { createConnectionSchema, updateConnectionSchema } from './connection-schemas.js';
import { InvalidCredentials, presentConnection, type ConnectionService } from './connection-service.js';
import { presentIdentity, type IdentityLinkService } from './identity-links.js';

export interface ConnectionRouteDeps {
  connections: ConnectionService;
  identityLinks: IdentityLinkService;
  accounts: AccountService;
  audit: AuditLog;
}

/** A missing credential for the chosen authentication method is a 400 naming the field (Admin API and console). */
export async function credentialsChecked<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof InvalidCredentials)) throw err;
    throw new InvalidRequestError(`token_endpoint_auth_method ${err.method} needs ${err.field}.`, [templatedIssue(err.field, 'required with {{method}}', { method: err.method })]);
  }
}

/** Deletes a connection and the identities linked through it (Admin API and console). */
export async function deleteConnection(deps: Pick<ConnectionRouteDeps, 'connections' | 'identityLinks'>, app: AppRecord, slug: string): Promise<void> {
  await deps.connections.delete(app, slug);
  await deps.identityLinks.removeConnection(app, slug);
}

export function registerConnectionRoutes(registry: RouteRegistry, helpers: AdminHelpers, deps: ConnectionRouteDeps): void {
  const { connections, identityLinks } = deps;
  const issuerOf = (app: AppRecord) => String(helpers.presentApp(app).issuer);
  registry.add({ method: 'post', path: '/apps/:slug/connections', tag: 'connections', status: 201, body: createConnectionSchema,
    summary: 'Add an upstream identity provider (OpenID Connect; presets google, microsoft, generic); the client secret and private key are write-only',
    handler: async ({ params, body }) => {
      const app = await helpers.app(params);
      return presentConnection(await credentialsChecked(() => connections.create(app, body)), issuerOf(app));
    } });
  registry.add({ method: 'get', path: '/apps/:slug/connections', tag: 'connections', summary: 'List upstream identity providers in button order',
    handler: async ({ params }) => {
      const app = await helpers.app(params);
      return (await connections.list(app)).map((c) => presentConnection(c, issuerOf(app)));
    } });
  registry.add({ method: 'get', path: '/apps/:slug/connections/:connection', tag: 'connections', summary: 'Get an upstream identity provider',
    handler: async ({ params }) => {
      const app = await helpers.app(params);
      return presentConnection(await connections.require(app, params.connection), issuerOf(app));
    } });
  registry.add({ method: 'patch', path: '/apps/:slug/connections/:connection', tag: 'connections', body: updateConnectionSchema,
    summary: 'Change an upstream identity provider; a new client_secret or private_key_jwk replaces the credential',
    handler: async ({ params, body }) => {
      const app = await helpers.app(params);
      return presentConnection(await credentialsChecked(() => connections.update(app, params.connection, body)), issuerOf(app));
    } });
  registry.add({ method: 'delete', path: '/apps/:slug/connections/:connection', tag: 'connections', status: 204,
    summary: 'Delete an upstream identity provider and the identities linked through it',
    handler: async ({ params }) => {
      await deleteConnection(deps, await helpers.app(params), params.connection);
    } });
  registry.add({ method: 'get', path: '/apps/:slug/accounts/:id/identities', tag: 'accounts', summary: 'Upstream identities linked to an account',
    handler: async ({ params }) => {
      const app = await helpers.app(params);
      const account = await deps.accounts.require(app, params.id);
      return (await identityLinks.list(app, account.id)).map(presentIdentity);
    } });
  registry.add({ method: 'delete', path: '/apps/:slug/accounts/:id/identities/:identity', tag: 'accounts', status: 204,
    summary: 'Unlink an upstream identity from an account (its next sign-in there is a new identity)',
    handler: async ({ params, ctx }) => {
      const app = await helpers.app(params);
      const account = await deps.accounts.require(app, params.id);
      await identityLinks.remove(app, account.id, params.identity);
      await deps.audit.record(app, 'identity.unlinked', { accountId: account.id, ip: ctx.state.ip as string | undefined, detail: { identity: params.identity } });
    } });
}
