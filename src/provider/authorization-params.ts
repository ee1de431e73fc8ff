/**
 * Checks on the authorization request that oidc-provider runs after its own parameter checks (the `extraParams`
 * validators run after the scope, redirect_uri and PKCE checks, so their errors are redirected to the relying
 * party like any other authorization error, RFC 6749 §4.1.2.1).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { AppRecord } from '../storage/ports.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { chooseTenant } from '../tenants/tenant-choice.js';

type Client = NonNullable<KoaContextWithOIDC['oidc']['client']>;

/**
 * `tenant=` must name a tenant of the app: an unknown one is `invalid_request` "unknown tenant", so a typo or a
 * deleted tenant is visible to the relying party instead of silently signing in to another tenant.
 */
export async function checkRequestedTenant(app: AppRecord, tenants: TenantService, value: unknown): Promise<void> {
  if (value === undefined) return;
  const requested = typeof value === 'string' ? value : '';
  const exists = requested !== '' && requested.length <= 100 && (await tenants.find(app, requested)) !== undefined;
  if (chooseTenant({ memberships: [], requested, requestedExists: exists, selectAccount: false }).kind === 'unknown_tenant') {
    throw new errors.InvalidRequest('unknown tenant');
  }
}

/**
 * OIDC Core §11: `offline_access` is granted only when the request has `prompt=consent` (the library's rule: it
 * drops the scope otherwise) "unless other conditions for processing the request permitting offline access … are
 * in place". For the app's own (first-party) clients, which never ask consent, that condition is the app owning
 * the client: the scope the client requested is kept. It is never added for clients without the refresh_token
 * grant or outside the code flow.
 */
export function keepOfflineAccessForFirstParty(ctx: KoaContextWithOIDC, client: Client | undefined): void {
  const { params } = ctx.oidc;
  if (!params) return;
  const original = typeof ctx.query.scope === 'string' ? ctx.query.scope.split(' ') : [];
  const granted = typeof params.scope === 'string' ? params.scope.split(' ') : [];
  if (!client || !original.includes('offline_access') || granted.includes('offline_access')) return;
  if (client.metadata()['urn:portcullis:first_party'] !== true || !client.grantTypeAllowed('refresh_token')) return;
  if (!String(params.response_type ?? '').split(' ').includes('code')) return;
  params.scope = [...granted, 'offline_access'].join(' ');
}
