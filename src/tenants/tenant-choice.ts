/**
 * The one rule for which tenant a sign-in is for, used by the sign-in stages and the provider's interaction policy.
 */
import type { TenantMembership } from './tenant-service.js';

export type TenantDecision =
  /** Sign in to this tenant (null: the account belongs to no tenant). */
  | { kind: 'use'; tenantId: string | null }
  /** The person must choose among their memberships. */
  | { kind: 'choose' };

/**
 * - the tenant asked for with `tenant=` (slug or id), when the person belongs to it and did not ask for the chooser;
 * - no tenant, for an account in none;
 * - the only tenant, unless the chooser was asked for (`prompt=select_account`);
 * - otherwise the person chooses.
 */
export function decideTenant(input: { memberships: readonly TenantMembership[]; requested?: string; chooserRequested: boolean }): TenantDecision {
  const { memberships, requested, chooserRequested } = input;
  const preselected = requested ? memberships.find((m) => m.tenant.slug === requested || m.tenant.id === requested) : undefined;
  if (preselected && !chooserRequested) return { kind: 'use', tenantId: preselected.tenant.id };
  if (memberships.length === 0) return { kind: 'use', tenantId: null };
  if (memberships.length === 1 && !chooserRequested) return { kind: 'use', tenantId: memberships[0].tenant.id };
  return { kind: 'choose' };
}
