/**
 * Which tenant a sign-in is for: the one rule shared by the sign-in stages (`src/sign-in/sequence.ts`) and
 * the provider's interaction policy (`src/provider/provider-factory.ts`), so a request that needs no page and a
 * request that shows one can never disagree. Pure: no I/O, no Koa.
 */

/** A tenant the account belongs to, as the rule needs it. */
export interface TenantRef {
  id: string;
  slug: string;
}

export interface TenantChoiceInput {
  /** Every tenant the account is a member of (any order). */
  memberships: readonly TenantRef[];
  /** The `tenant=` authorization parameter (a tenant slug or id), when the request has one. */
  requested?: string;
  /**
   * Whether `requested` names a tenant that exists in the app (whoever its members are). `false` makes the answer
   * `unknown_tenant`; leave it undefined when the caller has already rejected unknown tenants.
   */
  requestedExists?: boolean;
  /** `prompt=select_account` was asked: the person picks, even when one tenant would do. */
  selectAccount: boolean;
  /** The tenant already chosen for this client in the session (the grant's), kept when nothing asks for another. */
  current?: string;
}

export type TenantChoice =
  /** Sign in to this tenant without asking. */
  | { kind: 'tenant'; tenantId: string }
  /** The account belongs to no tenant: the tokens carry no tenant claims. */
  | { kind: 'no_tenant' }
  /** The person must choose among these tenants (the chooser page; with prompt=none, `interaction_required`). */
  | { kind: 'choose'; tenantIds: string[] }
  /** `tenant=` names no tenant of the app: an `invalid_request` ("unknown tenant") for the relying party. */
  | { kind: 'unknown_tenant'; requested: string };

const names = (requested: string) => (t: TenantRef) => t.slug === requested || t.id === requested;

/**
 * Decides the tenant of a sign-in, in this order:
 * 1. `tenant=` naming no tenant of the app → `unknown_tenant` (never silently ignored);
 * 2. no memberships → `no_tenant`;
 * 3. `prompt=select_account` → `choose` (all memberships);
 * 4. `tenant=` naming one of the account's tenants → that tenant (a switch the person is entitled to needs no page);
 * 5. the session's current tenant, while the account is still a member → kept;
 * 6. exactly one membership → that tenant;
 * 7. otherwise → `choose`.
 * A `tenant=` of an existing tenant the account is not a member of is treated as absent (steps 5–7), so the
 * answer never tells the relying party who belongs where.
 */
export function chooseTenant(input: TenantChoiceInput): TenantChoice {
  const { memberships, requested, requestedExists, selectAccount, current } = input;
  if (requested !== undefined && requestedExists === false) return { kind: 'unknown_tenant', requested };
  if (memberships.length === 0) return { kind: 'no_tenant' };
  const all = { kind: 'choose', tenantIds: memberships.map((t) => t.id) } as const;
  if (selectAccount) return all;
  const asked = requested !== undefined ? memberships.find(names(requested)) : undefined;
  if (asked) return { kind: 'tenant', tenantId: asked.id };
  if (current !== undefined && memberships.some((t) => t.id === current)) return { kind: 'tenant', tenantId: current };
  if (memberships.length === 1) return { kind: 'tenant', tenantId: memberships[0].id };
  return all;
}
