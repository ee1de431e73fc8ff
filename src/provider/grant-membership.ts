/**
 * The person's membership (tenant and roles) in the tenant recorded on the grant of this request, read at most once
 * per request: resource scopes (`resource-servers.ts`) and the access token's tenant claims (`resource-token-claims.ts`)
 * both need it while one token is minted.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AppRecord } from '../storage/ports.js';
import type { TenantMembership, TenantService } from '../tenants/tenant-service.js';
import { tenantOfGrant } from './tenant-grant.js';

const memo = new WeakMap<object, Promise<TenantMembership | undefined>>();

/** Undefined when the request has no grant, the grant no tenant, or the person has left that tenant. */
export function grantMembership(app: AppRecord, tenants: Pick<TenantService, 'membership'>, ctx: KoaContextWithOIDC): Promise<TenantMembership | undefined> {
  let pending = memo.get(ctx);
  if (!pending) {
    const grant = ctx.oidc?.entities?.Grant;
    const tenantId = tenantOfGrant(grant);
    pending = tenantId && grant?.accountId ? tenants.membership(app, tenantId, grant.accountId) : Promise.resolve(undefined);
    memo.set(ctx, pending);
  }
  return pending;
}
