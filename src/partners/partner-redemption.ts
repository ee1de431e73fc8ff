/**
 * Using a partner's token, for both ways in (the browser link and the RFC 7523 grant): verify it
 * (`partner-token.ts`), spend its `jti` once, then find or provision the account it names and apply the partner's
 * mapping (external ids, tenant, role). Every success and every refusal is an audit event with the partner, jti,
 * reason and IP; refusals count against a per-IP limit.
 */
import { normaliseEmail, type AccountService } from '../accounts/account-service.js';
import { emailSchema } from '../accounts/contact-schemas.js';
import type { AuditLog } from '../audit/audit-log.js';
import { sha256 } from '../crypto/random.js';
import { ConflictError } from '../errors.js';
import { LIMITS, type RateLimiter } from '../limits/rate-limiter.js';
import type { AccountRecord, AppRecord, EphemeralStore, PartnerRecord, TenantRecord } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { PartnerTokenProblem, verifyPartnerToken, type PartnerKeys, type VerifiedToken } from './partner-token.js';

export interface RedemptionDeps {
  accounts: AccountService;
  tenants: TenantService;
  audit: AuditLog;
  limiter: RateLimiter;
  ephemeral: EphemeralStore;
  keys: PartnerKeys;
  ipPerHour: number;
}

export interface Redeemed {
  account: AccountRecord;
  tenantId?: string;
  jti: string;
  /** The email the token carried (login_hint for the relying party). */
  email?: string;
}

/** The audit event names of each way in. */
export const AUDIT_EVENTS = {
  link: { used: 'partner_link.used', refused: 'partner_link.refused' },
  grant: { used: 'partner_grant.used', refused: 'partner_grant.refused' },
} as const;

export type Via = keyof typeof AUDIT_EVENTS;

/** Too many refused partner tokens from this address (OWASP ASVS V2.2.1 anti-automation). */
export class PartnerRateLimited extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('partner tokens rate limited');
  }
}

const claimText = (value: unknown): string | undefined =>
  (typeof value === 'string' && value.length > 0 && value.length <= 200) || (typeof value === 'number' && Number.isFinite(value)) ? String(value) : undefined;

export class PartnerRedemption {
  constructor(private readonly deps: RedemptionDeps) {}

  /**
   * Redeems `token` for `partner`; throws {@link PartnerTokenProblem} (recorded, counted) or {@link PartnerRateLimited}.
   * `audience` is what `aud` must contain when the partner did not configure its own.
   */
  async redeem(app: AppRecord, partner: PartnerRecord, token: string, context: { ip?: string; via: Via; audience: string | string[] }): Promise<Redeemed> {
    const { limiter, audit } = this.deps;
    const limit = LIMITS.partnerFailuresPerIp(this.deps.ipPerHour);
    const ip = context.ip ?? 'unknown';
    const { exceeded } = await limiter.check(app.id, [[limit, ip]]);
    if (exceeded) {
      await audit.record(app, AUDIT_EVENTS[context.via].refused, { ip: context.ip, detail: { partner: partner.slug, reason: 'rate_limited' } });
      throw new PartnerRateLimited(exceeded.retryAfterSeconds);
    }
    try {
      const verified = await verifyPartnerToken(token, partner, this.deps.keys, partner.audience ?? context.audience);
      await this.spendJti(app, partner, verified);
      const redeemed = await this.accountFor(app, partner, verified);
      await audit.record(app, AUDIT_EVENTS[context.via].used, {
        accountId: redeemed.account.id, ip: context.ip, detail: { partner: partner.slug, jti: verified.jti, tenant_id: redeemed.tenantId },
      });
      return redeemed;
    } catch (error) {
      if (!(error instanceof PartnerTokenProblem)) throw error;
      await Promise.all([
        audit.record(app, AUDIT_EVENTS[context.via].refused, { ip: context.ip, detail: { partner: partner.slug, jti: error.jti, reason: error.reason } }),
        // A partner's key server being down is not the caller's failure.
        error.kind === 'keys_unavailable' ? undefined : limiter.hit(app.id, limit, ip),
      ]);
      throw error;
    }
  }

  /** Records an attempt at a partner that does not exist (the link names an unknown partner). */
  async refuseUnknown(app: AppRecord, slug: string, context: { ip?: string; via: Via }): Promise<void> {
    const limit = LIMITS.partnerFailuresPerIp(this.deps.ipPerHour);
    await Promise.all([
      this.deps.audit.record(app, AUDIT_EVENTS[context.via].refused, { ip: context.ip, detail: { partner: slug.slice(0, 100), reason: 'unknown_partner' } }),
      this.deps.limiter.hit(app.id, limit, context.ip ?? 'unknown'),
    ]);
  }

  /**
   * RFC 7519 §4.1.7: the `jti` is remembered until the token could no longer be accepted anyway (its `exp` plus the
   * skew, or its maximum age), with `setIfAbsent`: atomic in every store, so of N concurrent uses exactly one wins,
   * across processes sharing Redis.
   */
  private async spendJti(app: AppRecord, partner: PartnerRecord, verified: VerifiedToken): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const until = Math.min(verified.exp + partner.clockSkewSeconds, Number(verified.claims.iat) + partner.maxTokenAgeSeconds + 1);
    const key = shortLivedKey(app.id, 'partner-jti', sha256(`${partner.slug}\u0000${verified.jti}`));
    if (!(await this.deps.ephemeral.setIfAbsent(key, 1, Math.max(1, until - now + 1)))) {
      throw new PartnerTokenProblem('used', 'jti_replayed', verified.jti);
    }
  }

  /** Finds or provisions the account and applies the mapping. Refusals never say whether an account exists. */
  private async accountFor(app: AppRecord, partner: PartnerRecord, verified: VerifiedToken): Promise<Redeemed> {
    const { claims, jti } = verified;
    const mapping = partner.claimMapping;
    const subject = claimText(claims[mapping.subject]);
    if (!subject) throw new PartnerTokenProblem('invalid', 'missing_subject', jti);
    const rawEmail = mapping.email ? claims[mapping.email] : undefined;
    const email = typeof rawEmail === 'string' && emailSchema.safeParse(rawEmail).success ? normaliseEmail(rawEmail) : undefined;
    const name = mapping.name && typeof claims[mapping.name] === 'string' ? String(claims[mapping.name]).slice(0, 200) : undefined;
    const externalIds: Record<string, string> = {};
    for (const [field, claim] of Object.entries(mapping.externalIds)) {
      const value = claimText(claims[claim]);
      if (value !== undefined) externalIds[field] = value;
    }

    // Resolve the tenant before touching any account: a token naming an unknown organisation changes nothing.
    const tenant = await this.tenantFor(app, partner, claims, jti);
    let account = await this.findOrCreate(app, partner, { subject, email, name, externalIds }, jti);
    if (account.status === 'deactivated') throw new PartnerTokenProblem('invalid', 'account_deactivated', jti);

    const links = account.partnerLinks ?? [];
    const linked = links.some((l) => l.partner === partner.slug && l.subject === subject);
    account = await this.deps.accounts.updateFromPartner(app, account.id, {
      partnerLinks: linked ? undefined : [...links.filter((l) => l.partner !== partner.slug), { partner: partner.slug, subject }],
      externalIds: Object.keys(externalIds).length > 0 ? { ...account.externalIds, ...externalIds } : undefined,
      // The partner vouches for the person: an invitation not yet accepted is accepted by signing in.
      status: account.status === 'invited' ? 'active' : undefined,
      name: account.name ? undefined : name,
    });

    if (tenant) {
      const role = this.roleFor(partner, claims);
      const current = await this.deps.tenants.membership(app, tenant.id, account.id);
      const roles = role ? [role] : current?.roles ?? [];
      await this.deps.tenants.putMember(app, tenant.id, account.id, roles);
    }
    return { account, tenantId: tenant?.id, jti, email };
  }

  private async findOrCreate(
    app: AppRecord, partner: PartnerRecord, person: { subject: string; email?: string; name?: string; externalIds: Record<string, string> }, jti: string,
  ): Promise<AccountRecord> {
    const { accounts } = this.deps;
    const bySubject = await accounts.findByPartnerSubject(app, partner.slug, person.subject);
    if (bySubject) return bySubject;
    // With one account per email the address identifies the person; with several, never (duplicate contacts would be
    // merged by whoever asserts the address): then only the (partner, subject) link does.
    if (person.email && app.settings.accounts_per_email === 'one') {
      const [byEmail] = await accounts.findByEmail(app, person.email);
      if (byEmail) {
        const other = (byEmail.partnerLinks ?? []).find((l) => l.partner === partner.slug);
        if (other) throw new PartnerTokenProblem('invalid', 'email_linked_to_another_subject', jti);
        return byEmail;
      }
    }
    if (partner.provisioning === 'off') throw new PartnerTokenProblem('invalid', 'no_account', jti);
    if (!person.email) throw new PartnerTokenProblem('invalid', 'missing_email', jti);
    try {
      return await accounts.create(app, { email: person.email, name: person.name }, {
        partnerLinks: [{ partner: partner.slug, subject: person.subject }],
        externalIds: Object.keys(person.externalIds).length > 0 ? person.externalIds : undefined,
      });
    } catch (error) {
      // Two first sign-ins of one person racing (different tokens): the other one created the account.
      if (!(error instanceof ConflictError)) throw error;
      const winner = (await accounts.findByPartnerSubject(app, partner.slug, person.subject))
        ?? (app.settings.accounts_per_email === 'one' ? (await accounts.findByEmail(app, person.email))[0] : undefined);
      if (!winner) throw error;
      return winner;
    }
  }

  private async tenantFor(app: AppRecord, partner: PartnerRecord, claims: Record<string, unknown>, jti: string): Promise<TenantRecord | undefined> {
    const rule = partner.claimMapping.tenant;
    if (!rule) return undefined;
    const value = claimText(claims[rule.claim]);
    if (!value) throw new PartnerTokenProblem('invalid', 'missing_tenant_claim', jti);
    const { tenants } = this.deps;
    const found = rule.match === 'id' ? await tenants.find(app, value).then((t) => (t?.id === value ? t : undefined))
      : rule.match === 'external_id' ? await tenants.findByExternalId(app, value)
        : await tenants.find(app, value).then((t) => (t?.slug === value ? t : undefined));
    if (found) return found;
    if (!rule.create || rule.match === 'id') throw new PartnerTokenProblem('invalid', 'unknown_tenant', jti);
    const slug = rule.match === 'slug' ? value : `ext-${value.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || sha256(value).slice(0, 12)}`;
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(slug)) throw new PartnerTokenProblem('invalid', 'tenant_slug_invalid', jti);
    try {
      return await tenants.create(app, { slug, name: value, ...(rule.match === 'external_id' ? { external_id: value } : {}) });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const raced = rule.match === 'external_id' ? await tenants.findByExternalId(app, value) : await tenants.find(app, slug);
      if (!raced) throw new PartnerTokenProblem('invalid', 'tenant_conflict', jti);
      return raced;
    }
  }

  private roleFor(partner: PartnerRecord, claims: Record<string, unknown>): string | undefined {
    const rule = partner.claimMapping.role;
    if (!rule) return undefined;
    const value = claimText(claims[rule.claim]);
    return (value !== undefined && Object.hasOwn(rule.map, value) ? rule.map[value] : undefined) ?? rule.default;
  }
}
