/**
 * oidc-provider's `loadExistingGrant` hook, with the tenant decided by `chooseTenant` for requests that need no
 * page: a signed-in person whose request names another of their tenants (`tenant=`), even with `prompt=none`, gets
 * tokens for it without an interaction; a grant whose tenant the person has left moves to their only remaining
 * tenant (or to none). Whatever needs the person (several tenants and none chosen, `prompt=select_account`) is left
 * to the interaction policy, which then asks.
 */
import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import type { AppRecord } from '../storage/ports.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { chooseTenant } from '../tenants/tenant-choice.js';
import { setGrantTenant, tenantOfGrant } from './tenant-grant.js';

/** The request's tenant decision for a signed-in account (no unknown tenants here: the request check refused them). */
export async function tenantDecision(app: AppRecord, tenants: TenantService, ctx: KoaContextWithOIDC, accountId: string, grant: Grant | undefined) {
  const memberships = await tenants.membershipsOf(app, accountId);
  const requested = typeof ctx.oidc.params?.tenant === 'string' ? ctx.oidc.params.tenant : undefined;
  return chooseTenant({
    memberships: memberships.map((m) => ({ id: m.tenant.id, slug: m.tenant.slug })),
    requested,
    selectAccount: ctx.oidc.prompts.has('select_account'),
    current: tenantOfGrant(grant),
  });
}

export function loadExistingGrantWithTenant(app: AppRecord, tenants: TenantService) {
  return async (ctx: KoaContextWithOIDC): Promise<Grant | undefined> => {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session?.grantIdFor(oidc.client!.clientId);
    if (!grantId) return undefined;
    const grant = await oidc.provider.Grant.find(grantId);
    const accountId = oidc.session?.accountId;
    // Right after our interaction the tenant was just chosen on this grant: never second-guess it.
    if (!grant || !accountId || oidc.result) return grant;
    const decision = await tenantDecision(app, tenants, ctx, accountId, grant);
    const current = tenantOfGrant(grant);
    const next = decision.kind === 'tenant' ? decision.tenantId : decision.kind === 'no_tenant' ? undefined : current;
    if (next !== current) {
      setGrantTenant(grant, next);
      await grant.save();
    }
    return grant;
  };
}
