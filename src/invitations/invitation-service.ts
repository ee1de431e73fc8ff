/**
 * Invitations: an operator invites an email address to an app (optionally into a tenant with roles, optionally for a
 * client); the person opens the emailed link, sets a password (or just confirms) and is signed in.
 *
 * - The link carries a random 256-bit token; only its SHA-256 is stored (like every single-use link here), so a
 *   database read never yields a working link. Links are built from PUBLIC_URL, never from a request's Host header.
 * - Valid 7 days, single use: of two concurrent acceptances exactly one wins (a claim in the ephemeral store, then
 *   the record is marked accepted). Revoking or re-sending (which rotates the token) kills the previous link.
 * - Accepting proves control of the address (OIDC Core §5.1 `email_verified`) and activates the account.
 */
import type { Config } from '../../config/index.js';
import { issuerFor } from '../../config/index.js';
import type { AccountService } from '../accounts/account-service.js';
import { normaliseEmail } from '../accounts/account-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ClientService } from '../clients/client-service.js';
import { prefixedId, randomId, sha256 } from '../crypto/random.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import { ConflictError, InvalidRequestError, NotFoundError, PortcullisError } from '../errors.js';
import type { Messenger } from '../messaging/index.js';
import type { AccountRecord, AppRecord, EphemeralStore, InvitationRecord, InvitationRepository, TenantRecord } from '../storage/ports.js';
import type { TenantService } from '../tenants/tenant-service.js';

/** How long an acceptance holds its claim; after that an acceptance that crashed half-way can be retried. */
const ACCEPT_CLAIM_SECONDS = 600;
/** `randomId(32)`: 32 bytes in base64url. Anything else is refused before any lookup. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface InvitationInput {
  email: string;
  name?: string;
  /** Tenant id or slug. */
  tenant?: string;
  roles?: string[];
  client_id?: string;
}

export type InvitationProblem = 'invalid' | 'expired' | 'used';

const PROBLEMS: Record<InvitationProblem, string> = {
  invalid: 'This invitation link is not valid any more. It may have been withdrawn or replaced by a newer email. Ask the person who invited you to send it again.',
  expired: 'This invitation has expired. Ask the person who invited you to send a new one.',
  used: 'This invitation has already been accepted. Go to the application and sign in.',
};

/** A link that cannot be used: the person sees a friendly 400 page saying why. */
export class InvitationLinkError extends PortcullisError {
  constructor(readonly problem: InvitationProblem) {
    super(400, problem === 'expired' ? 'invitation_expired' : problem === 'used' ? 'invitation_used' : 'invitation_invalid', PROBLEMS[problem]);
  }
}

export interface InvitationDeps {
  invitations: InvitationRepository;
  accounts: AccountService;
  tenants: TenantService;
  clients: ClientService;
  messenger: Messenger;
  audit: AuditLog;
  ephemeral: EphemeralStore;
  config: Pick<Config, 'publicUrl' | 'lifetimes'>;
}

/** An invitation opened by its link, with the account it activates. */
export interface OpenInvitation {
  invitation: InvitationRecord;
  account: AccountRecord;
  tenantName?: string;
}

export class InvitationService {
  constructor(private readonly deps: InvitationDeps) {}

  /**
   * Creates the invitation and emails it. The account is created with status `invited` (it cannot sign in until the
   * invitation is accepted); when the address already has an account, that account is invited instead. The tenant
   * membership is granted now (roles merged with any the account already holds there).
   */
  async create(app: AppRecord, input: InvitationInput): Promise<InvitationRecord> {
    const { accounts, tenants, clients } = this.deps;
    if (input.roles?.length && !input.tenant) {
      throw new InvalidRequestError('Roles are granted in a tenant: name the tenant.', [{ path: 'tenant', message: 'is required with roles' }]);
    }
    const tenant = input.tenant ? await tenants.require(app, input.tenant) : undefined;
    if (input.client_id) await clients.require(app, input.client_id);
    const email = normaliseEmail(input.email);

    const existing = (await accounts.findByEmail(app, email));
    if (existing.length > 1) {
      throw new ConflictError('Several accounts have this email in this app; add the membership to the right account instead.');
    }
    let account = existing[0];
    if (account?.status === 'deactivated') throw new ConflictError('The account with this email is deactivated; reactivate it first.');
    if (account) {
      const pending = (await this.deps.invitations.list(app.id)).find((i) =>
        i.accountId === account!.id && i.status === 'pending' && i.expiresAt.getTime() > Date.now() && (i.tenantId ?? null) === (tenant?.id ?? null));
      if (pending) throw new ConflictError(`A pending invitation (${pending.id}) already exists for this email; resend it instead.`);
    } else {
      account = await accounts.create(app, { email, name: input.name, status: 'invited' });
      await this.deps.audit.record(app, 'account.created', { accountId: account.id, detail: { by: 'invitation' } });
    }
    if (tenant) {
      const current = await tenants.membership(app, tenant.id, account.id);
      await tenants.putMember(app, tenant.id, account.id, [...(current?.roles ?? []), ...(input.roles ?? [])]);
    }

    const token = randomId(32);
    const now = new Date();
    const invitation: InvitationRecord = {
      appId: app.id,
      id: prefixedId('inv'),
      accountId: account.id,
      email,
      tenantId: tenant?.id,
      roles: input.roles ?? [],
      clientId: input.client_id,
      tokenHash: sha256(token),
      status: 'pending',
      expiresAt: new Date(now.getTime() + this.deps.config.lifetimes.invitation * 1000),
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.invitations.create(invitation);
    await this.send(app, invitation, token, account, tenant);
    await this.deps.audit.record(app, 'invitation.created', { accountId: account.id, detail: { invitation: invitation.id, tenant: tenant?.id } });
    return invitation;
  }

  list(app: AppRecord): Promise<InvitationRecord[]> {
    return this.deps.invitations.list(app.id);
  }

  async require(app: AppRecord, id: string): Promise<InvitationRecord> {
    const invitation = await this.deps.invitations.findById(app.id, id);
    if (!invitation) throw new NotFoundError(`No invitation "${id}" in app "${app.slug}".`);
    return invitation;
  }

  /** Withdraws a pending invitation: its link stops working. Revoking twice is not an error. */
  async revoke(app: AppRecord, id: string): Promise<void> {
    const invitation = await this.require(app, id);
    if (invitation.status === 'accepted') throw new ConflictError('This invitation was already accepted.');
    if (invitation.status === 'revoked') return;
    await this.deps.invitations.update(app.id, id, { status: 'revoked' });
    await this.deps.audit.record(app, 'invitation.revoked', { accountId: invitation.accountId, detail: { invitation: id } });
  }

  /** Sends the invitation again with a new token (the previous link stops working) and a new 7-day validity. */
  async resend(app: AppRecord, id: string): Promise<InvitationRecord> {
    const invitation = await this.require(app, id);
    if (invitation.status !== 'pending') throw new ConflictError(`This invitation was ${invitation.status}; create a new one instead.`);
    const account = await this.deps.accounts.find(app, invitation.accountId);
    if (!account || account.status === 'deactivated') throw new ConflictError('The invited account no longer exists or is deactivated.');
    const token = randomId(32);
    const now = new Date();
    const updated = await this.deps.invitations.update(app.id, id, {
      tokenHash: sha256(token),
      expiresAt: new Date(now.getTime() + this.deps.config.lifetimes.invitation * 1000),
    });
    if (!updated) throw new NotFoundError(`No invitation "${id}" in app "${app.slug}".`);
    const tenant = updated.tenantId ? await this.deps.tenants.find(app, updated.tenantId) : undefined;
    await this.send(app, updated, token, account, tenant);
    await this.deps.audit.record(app, 'invitation.resent', { accountId: updated.accountId, detail: { invitation: id } });
    return updated;
  }

  /** The invitation a link token opens, or the reason it cannot be used. Reading never uses it up (mail scanners). */
  async open(app: AppRecord, token: string): Promise<OpenInvitation> {
    if (!TOKEN_PATTERN.test(token)) throw new InvitationLinkError('invalid');
    const invitation = await this.deps.invitations.findByTokenHash(app.id, sha256(token));
    if (!invitation || invitation.status === 'revoked') throw new InvitationLinkError('invalid');
    if (invitation.status === 'accepted') throw new InvitationLinkError('used');
    if (invitation.expiresAt.getTime() <= Date.now()) throw new InvitationLinkError('expired');
    const account = await this.deps.accounts.find(app, invitation.accountId);
    if (!account || account.status === 'deactivated') throw new InvitationLinkError('invalid');
    const tenant = invitation.tenantId ? await this.deps.tenants.find(app, invitation.tenantId) : undefined;
    return { invitation, account, tenantName: tenant?.name };
  }

  /** Whether accepting asks for a password: the app signs in with passwords and the account has none yet. */
  needsPassword(app: AppRecord, account: AccountRecord): boolean {
    return app.settings.login_methods.includes('password') && !account.passwordHash;
  }

  /**
   * Accepts the invitation once: sets the password (when one is needed), activates the account and marks the email
   * verified. Concurrent acceptances of one invitation: exactly one succeeds, the others get `used`.
   */
  async accept(app: AppRecord, token: string, input: { password?: string; ip?: string }): Promise<OpenInvitation> {
    const opened = await this.open(app, token);
    const { invitation } = opened;
    const claim = shortLivedKey(app.id, 'invitation-accept', invitation.id);
    if (!(await this.deps.ephemeral.setIfAbsent(claim, 1, ACCEPT_CLAIM_SECONDS))) throw new InvitationLinkError('used');
    try {
      // Re-read under the claim: a revoke, a resend (new token) or an acceptance may have landed since `open`.
      const current = await this.deps.invitations.findById(app.id, invitation.id);
      if (!current || current.tokenHash !== invitation.tokenHash || current.status === 'revoked') throw new InvitationLinkError('invalid');
      if (current.status === 'accepted') throw new InvitationLinkError('used');
      if (current.expiresAt.getTime() <= Date.now()) throw new InvitationLinkError('expired');
      await this.deps.invitations.update(app.id, invitation.id, { status: 'accepted' });
    } catch (err) {
      await this.deps.ephemeral.delete(claim);
      throw err;
    }
    const password = this.needsPassword(app, opened.account) ? input.password : undefined;
    const account = await this.deps.accounts.update(app, invitation.accountId, { status: 'active', email_verified: true, ...(password ? { password } : {}) });
    await this.deps.audit.record(app, 'invitation.accepted', { accountId: account.id, ip: input.ip, detail: { invitation: invitation.id, password_set: Boolean(password) } });
    return { ...opened, invitation: { ...invitation, status: 'accepted' }, account };
  }

  /** The link is built from PUBLIC_URL (the app's issuer), never from the request. */
  linkFor(app: AppRecord, token: string): string {
    return `${issuerFor(this.deps.config, app.slug)}/invitation/${token}`;
  }

  private async send(app: AppRecord, invitation: InvitationRecord, token: string, account: AccountRecord, tenant?: TenantRecord): Promise<void> {
    // Awaited (unlike sign-in messages): this is an operator's call, and the answer says nothing about accounts.
    await this.deps.messenger.send(app, {
      channel: 'email',
      to: invitation.email,
      kind: 'invitation',
      locals: { link: this.linkFor(app, token), tenantName: tenant?.name },
      locale: account.locale,
      // The tenant the person joins: its branding override (name, colour) is the email's, as on the invitation page.
      brandTenant: tenant,
    });
  }
}

/** Admin API view of an invitation: never the token or its hash. A pending invitation past its expiry is `expired`. */
export function presentInvitation(invitation: InvitationRecord) {
  const expired = invitation.status === 'pending' && invitation.expiresAt.getTime() <= Date.now();
  return {
    id: invitation.id,
    email: invitation.email,
    account_id: invitation.accountId,
    tenant: invitation.tenantId ?? null,
    roles: invitation.roles ?? [],
    client_id: invitation.clientId ?? null,
    status: expired ? 'expired' : invitation.status,
    expires_at: invitation.expiresAt.toISOString(),
    created_at: invitation.createdAt.toISOString(),
  };
}
