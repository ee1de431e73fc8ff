import { InvalidRequestError, NotFoundError, templatedIssue } from '../errors.js';
import { brandingContrastProblems, mergeBranding, type TenantBranding } from '../branding/branding-schema.js';
import { prefixedId } from '../crypto/random.js';
import type { AccountRepository, AppRecord, MembershipRecord, TenantRecord, TenantRepository } from '../storage/ports.js';

export interface TenantMembership {
  tenant: TenantRecord;
  roles: string[];
}

/** Tenants (customer organisations) of an app and the roles accounts hold in them. */
export class TenantService {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly accounts: AccountRepository,
    /** Whether the app has this upstream connection (a tenant's own IdP must exist). */
    private readonly connectionExists: (app: AppRecord, slug: string) => Promise<boolean> = async () => false,
  ) {}

  async create(app: AppRecord, input: { slug: string; name: string; external_id?: string; mfa?: 'inherit' | 'required'; branding?: BrandingPatch; role_names?: Record<string, string> } & HomeRealmPatch): Promise<TenantRecord> {
    await this.checkConnection(app, input.connection);
    const now = new Date();
    const realm = Object.fromEntries(Object.entries(homeRealmOf(input)).filter(([, v]) => v !== undefined && v !== ''));
    const branding = checkedBranding(undefined, input.branding);
    const tenant: TenantRecord = {
      appId: app.id, id: prefixedId('ten'), slug: input.slug, name: input.name,
      ...(input.external_id ? { externalId: input.external_id } : {}), ...(input.mfa ? { mfa: input.mfa } : {}), ...(branding ? { branding } : {}), ...(input.role_names ? { roleNames: input.role_names } : {}), ...realm, createdAt: now, updatedAt: now,
    };
    await this.tenants.create(tenant);
    return tenant;
  }

  /** By id (`ten_…`) or slug. */
  async find(app: AppRecord, idOrSlug: string): Promise<TenantRecord | undefined> {
    return (await this.tenants.findById(app.id, idOrSlug)) ?? this.tenants.findBySlug(app.id, idOrSlug);
  }

  async require(app: AppRecord, idOrSlug: string): Promise<TenantRecord> {
    const tenant = await this.find(app, idOrSlug);
    if (!tenant) throw new NotFoundError(`No tenant "${idOrSlug}" in app "${app.slug}".`);
    return tenant;
  }

  /** The tenant with this id in another system (a partner's `external_id` match). */
  findByExternalId(app: AppRecord, externalId: string): Promise<TenantRecord | undefined> {
    return this.tenants.findByExternalId(app.id, externalId);
  }

  list(app: AppRecord): Promise<TenantRecord[]> {
    return this.tenants.list(app.id);
  }

  async update(app: AppRecord, idOrSlug: string, patch: { slug?: string; name?: string; external_id?: string; mfa?: 'inherit' | 'required'; branding?: BrandingPatch; role_names?: Record<string, string> } & HomeRealmPatch): Promise<TenantRecord> {
    const tenant = await this.require(app, idOrSlug);
    await this.checkConnection(app, patch.connection);
    // An empty object, not undefined, when every field was cleared: a patch skips undefined values.
    const branding = patch.branding ? { branding: checkedBranding(tenant.branding, patch.branding) ?? {} } : {};
    return (await this.tenants.update(app.id, tenant.id, { slug: patch.slug, name: patch.name, externalId: patch.external_id, mfa: patch.mfa, roleNames: patch.role_names, ...branding, ...homeRealmOf(patch) }))!;
  }

  private async checkConnection(app: AppRecord, connection: string | null | undefined): Promise<void> {
    if (connection && !(await this.connectionExists(app, connection))) {
      throw new InvalidRequestError('No such connection in this app.', [templatedIssue('connection', 'no connection "{{connection}}"', { connection })]);
    }
  }

  /** The tenants whose own IdP is this connection. */
  findByConnection(app: AppRecord, connection: string): Promise<TenantRecord[]> {
    return this.tenants.findByConnection(app.id, connection);
  }

  /** The tenant whose email domains include this one (home realm discovery). */
  findByDomain(app: AppRecord, domain: string): Promise<TenantRecord | undefined> {
    return this.tenants.findByDomain(app.id, domain.toLowerCase());
  }

  async delete(app: AppRecord, idOrSlug: string): Promise<void> {
    const tenant = await this.require(app, idOrSlug);
    await this.tenants.delete(app.id, tenant.id);
  }

  async putMember(app: AppRecord, idOrSlug: string, accountId: string, roles: string[]): Promise<MembershipRecord> {
    const tenant = await this.require(app, idOrSlug);
    if (!(await this.accounts.findById(app.id, accountId))) throw new NotFoundError(`No account "${accountId}" in app "${app.slug}".`);
    const now = new Date();
    return this.tenants.putMember({ appId: app.id, tenantId: tenant.id, accountId, roles: [...new Set(roles)], createdAt: now, updatedAt: now });
  }

  async removeMember(app: AppRecord, idOrSlug: string, accountId: string): Promise<void> {
    const tenant = await this.require(app, idOrSlug);
    if (!(await this.tenants.removeMember(app.id, tenant.id, accountId))) {
      throw new NotFoundError(`Account "${accountId}" is not a member of tenant "${tenant.slug}".`);
    }
  }

  async members(app: AppRecord, idOrSlug: string): Promise<MembershipRecord[]> {
    const tenant = await this.require(app, idOrSlug);
    return this.tenants.listMembers(app.id, tenant.id);
  }

  /** The tenants an account belongs to, with its roles in each, oldest membership first. */
  async membershipsOf(app: AppRecord, accountId: string): Promise<TenantMembership[]> {
    const memberships = await this.tenants.listMembershipsOfAccount(app.id, accountId);
    if (memberships.length === 0) return [];
    const tenants = new Map((await this.tenants.findManyByIds(app.id, memberships.map((m) => m.tenantId))).map((t) => [t.id, t]));
    return memberships.flatMap((m) => (tenants.has(m.tenantId) ? [{ tenant: tenants.get(m.tenantId)!, roles: m.roles }] : []));
  }

  /** One membership, or undefined when the account is not (or no longer) in that tenant. */
  async membership(app: AppRecord, tenantId: string, accountId: string): Promise<TenantMembership | undefined> {
    const [member, tenant] = await Promise.all([this.tenants.findMember(app.id, tenantId, accountId), this.tenants.findById(app.id, tenantId)]);
    return member && tenant ? { tenant, roles: member.roles } : undefined;
  }
}

/** Home realm discovery fields of a tenant PATCH: `connection: null` (stored as '') removes the tenant's IdP. */
export interface HomeRealmPatch {
  connection?: string | null;
  domains?: string[];
  allow_password?: boolean;
}

function homeRealmOf(patch: HomeRealmPatch): Pick<TenantRecord, 'connection' | 'domains' | 'allowPassword'> {
  return {
    connection: patch.connection === null ? '' : patch.connection,
    domains: patch.domains ? [...new Set(patch.domains.map((d) => d.toLowerCase()))] : undefined,
    allowPassword: patch.allow_password,
  };
}

/** A tenant's branding PATCH: `null` clears a field. */
type BrandingPatch = { [K in keyof TenantBranding]?: TenantBranding[K] | null };

/** The merged branding, refused (400) when its primary colour is too hard to read (WCAG AA, see branding-schema.ts). */
function checkedBranding(current: TenantBranding | undefined, patch: BrandingPatch | undefined): TenantBranding | undefined {
  const merged = mergeBranding<TenantBranding>(current, patch);
  const problems = patch ? brandingContrastProblems(merged, 'branding') : [];
  if (problems.length) throw new InvalidRequestError(`The brand colour is too hard to read: ${problems.map((p) => p.message).join('; ')}.`, problems);
  return merged;
}

export function presentTenant(tenant: TenantRecord) {
  return { id: tenant.id, slug: tenant.slug, name: tenant.name, external_id: tenant.externalId ?? null, mfa: tenant.mfa ?? 'inherit',
    branding: tenant.branding ?? {}, role_names: tenant.roleNames ?? {},
    connection: tenant.connection || null, domains: tenant.domains ?? [], allow_password: tenant.allowPassword ?? false, created_at: tenant.createdAt.toISOString(), updated_at: tenant.updatedAt.toISOString() };
}

export function presentMembership(m: MembershipRecord) {
  return { account_id: m.accountId, tenant_id: m.tenantId, roles: m.roles, created_at: m.createdAt.toISOString(), updated_at: m.updatedAt.toISOString() };
}
