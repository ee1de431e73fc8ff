/**
 * Which account an upstream identity is, in this order:
 * 1. the stored link `(connection, iss, sub)`;
 * 2. with `link_by_verified_email`, when the upstream says the email is verified: the existing accounts with that
 *    email (with `accounts_per_email: many`, the person then chooses among them);
 * 3. with `provisioning: create`, a new account (an unverified upstream email is stored as unverified, and never
 *    links to anybody's account);
 * otherwise nobody: the "no account" page, the same whether or not an account has that email.
 * Accounts coming through a connection that a tenant owns join that tenant, with the mapped or default role; a
 * claim → tenant mapping works like partner links'.
 */
import { normaliseEmail, type AccountService } from '../accounts/account-service.js';
import { emailSchema, phoneSchema } from '../accounts/contact-schemas.js';
import { ConflictError } from '../errors.js';
import type { AppRecord, ConnectionRecord, TenantRecord } from '../storage/ports.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { IdentityLinkService } from './identity-links.js';
import type { UpstreamSignIn } from './upstream-client.js';

export interface UpstreamAccountDeps {
  accounts: AccountService;
  tenants: TenantService;
  identityLinks: IdentityLinkService;
}

export type Resolution =
  | { kind: 'accounts'; accountIds: string[]; tenantId?: string; how: 'link' | 'email' | 'created' }
  | { kind: 'no_account'; reason: string };

/** The role of a tenant member who came through a connection without a role claim. */
export const DEFAULT_ROLE = 'user';

const text = (value: unknown, max = 200): string | undefined =>
  (typeof value === 'string' && value.length > 0 && value.length <= max) || (typeof value === 'number' && Number.isFinite(value)) ? String(value) : undefined;

/** The person as the upstream describes them, through the connection's claim mapping. */
export function personOf(connection: ConnectionRecord, claims: Record<string, unknown>) {
  const m = connection.claimMapping;
  const rawEmail = claims[m.email];
  const email = typeof rawEmail === 'string' && emailSchema.safeParse(rawEmail.trim()).success ? normaliseEmail(rawEmail) : undefined;
  // OIDC Core §5.1: email_verified is a boolean; some providers send the string "true".
  const verified = claims[m.emailVerified] === true || claims[m.emailVerified] === 'true' || claims[m.emailVerified] === 1;
  const rawPhone = m.phone ? claims[m.phone] : undefined;
  const phone = typeof rawPhone === 'string' && phoneSchema.safeParse(rawPhone).success ? rawPhone : undefined;
  return {
    subject: text(claims[m.subject], 255),
    email,
    emailVerified: Boolean(email) && verified,
    name: text(claims[m.name])?.replace(/[\u0000-\u001f\u007f]/g, ''),
    phone,
  };
}

export class UpstreamAccounts {
  constructor(private readonly deps: UpstreamAccountDeps) {}

  async resolve(app: AppRecord, connection: ConnectionRecord, signIn: UpstreamSignIn): Promise<Resolution> {
    const { accounts, identityLinks } = this.deps;
    const claims = signIn.claims;
    const issuer = String(claims.iss);
    const person = personOf(connection, claims);
    if (!person.subject) return { kind: 'no_account', reason: 'missing_subject' };
    const tenant = await this.tenantFor(app, connection, claims);
    if (tenant === null) return { kind: 'no_account', reason: 'unknown_tenant' };
    const identity = { connection: connection.slug, issuer, subject: person.subject };

    const found = await this.byLink(app, identity);
    if (found) {
      if (found.status === 'deactivated') return { kind: 'no_account', reason: 'account_deactivated' };
      // The upstream vouches for the person: an invitation not yet accepted is accepted by signing in (as partner links do).
      if (found.status === 'invited') await accounts.update(app, found.id, { status: 'active' });
      await this.afterSignIn(app, connection, found.id, identity, signIn, tenant, claims);
      return { kind: 'accounts', accountIds: [found.id], tenantId: tenant?.id, how: 'link' };
    }

    if (connection.linkByVerifiedEmail && person.email && person.emailVerified) {
      const candidates = (await accounts.findByEmail(app, person.email)).filter((a) => a.status !== 'deactivated');
      if (candidates.length > 0) {
        // One account: linked now. Several (duplicate contacts): the person chooses; no link is guessed for them.
        if (candidates.length === 1) await this.linkOnce(app, candidates[0].id, identity);
        for (const candidate of candidates) {
          if (candidate.status === 'invited') await accounts.update(app, candidate.id, { status: 'active' });
          if (!candidate.emailVerified) await accounts.markVerified(app, candidate.id, 'email');
        }
        if (candidates.length === 1) await this.afterSignIn(app, connection, candidates[0].id, identity, signIn, tenant, claims);
        return { kind: 'accounts', accountIds: candidates.map((a) => a.id), tenantId: tenant?.id, how: 'email' };
      }
    }

    if (connection.provisioning === 'off') return { kind: 'no_account', reason: 'provisioning_off' };
    const account = await this.create(app, person);
    try {
      await identityLinks.link(app, account.id, identity);
    } catch (err) {
      // Two first sign-ins of one person racing: the other one's account is the person's; this one goes.
      if (!(err instanceof ConflictError)) throw err;
      await accounts.delete(app, account.id);
      const winner = await this.byLink(app, identity);
      if (!winner) throw err;
      return { kind: 'accounts', accountIds: [winner.id], tenantId: tenant?.id, how: 'link' };
    }
    await this.afterSignIn(app, connection, account.id, identity, signIn, tenant, claims, true);
    return { kind: 'accounts', accountIds: [account.id], tenantId: tenant?.id, how: 'created' };
  }

  private async byLink(app: AppRecord, identity: { connection: string; issuer: string; subject: string }) {
    const link = await this.deps.identityLinks.find(app, identity.connection, identity.issuer, identity.subject);
    if (!link) return undefined;
    const account = await this.deps.accounts.find(app, link.accountId);
    // The account was deleted: its link is left over, and the identity is new again.
    if (!account) await this.deps.identityLinks.removeStale(app, link);
    return account;
  }

  private async linkOnce(app: AppRecord, accountId: string, identity: { connection: string; issuer: string; subject: string }) {
    try {
      await this.deps.identityLinks.link(app, accountId, identity);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }

  /**
   * A new account. With one account per email, an email another account already has is left out rather than
   * refused: refusing would tell the upstream's user that the address has an account here.
   */
  private async create(app: AppRecord, person: ReturnType<typeof personOf>) {
    const input = { name: person.name, phone: person.phone, email: person.email, email_verified: person.emailVerified };
    try {
      return await this.deps.accounts.create(app, input);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      return this.deps.accounts.create(app, { ...input, email: undefined, email_verified: false });
    }
  }

  /** Tenant membership (and stored tokens) after the account is known. */
  private async afterSignIn(
    app: AppRecord, connection: ConnectionRecord, accountId: string, identity: { connection: string; issuer: string; subject: string },
    signIn: UpstreamSignIn, tenant: TenantRecord | undefined, claims: Record<string, unknown>, created = false,
  ): Promise<void> {
    if (tenant) {
      const role = this.roleFor(connection, claims);
      const current = await this.deps.tenants.membership(app, tenant.id, accountId);
      if (!current || (role && !current.roles.includes(role)) || created) {
        await this.deps.tenants.putMember(app, tenant.id, accountId, role ? [role] : current?.roles ?? [DEFAULT_ROLE]);
      }
    }
    if (connection.storeTokens) {
      const link = await this.deps.identityLinks.find(app, identity.connection, identity.issuer, identity.subject);
      if (link) await this.deps.identityLinks.storeTokens(app, link, signIn.tokens);
    }
  }

  /**
   * The tenant the person signs in to: the one that owns the connection, else the claim mapping's; undefined when
   * neither applies, null when the mapped claim names no tenant of the app (nothing is changed then).
   */
  private async tenantFor(app: AppRecord, connection: ConnectionRecord, claims: Record<string, unknown>): Promise<TenantRecord | undefined | null> {
    const [owner] = await this.deps.tenants.findByConnection(app, connection.slug);
    if (owner) return owner;
    const rule = connection.claimMapping.tenant;
    if (!rule) return undefined;
    const value = text(claims[rule.claim], 100);
    if (!value) return null;
    const { tenants } = this.deps;
    const found = rule.match === 'external_id' ? await tenants.findByExternalId(app, value)
      : await tenants.find(app, value).then((t) => (t && (rule.match === 'id' ? t.id : t.slug) === value ? t : undefined));
    return found ?? null;
  }

  private roleFor(connection: ConnectionRecord, claims: Record<string, unknown>): string | undefined {
    const rule = connection.claimMapping.role;
    if (!rule) return undefined;
    const raw = claims[rule.claim];
    // A claim may carry several values (groups); the first that maps wins.
    const values = (Array.isArray(raw) ? raw : [raw]).map((v) => text(v, 64)).filter((v): v is string => v !== undefined);
    return values.map((v) => (Object.hasOwn(rule.map, v) ? rule.map[v] : undefined)).find(Boolean) ?? rule.default;
  }
}
