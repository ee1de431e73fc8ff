/**
 * Ending an account's access: sign out one session or everywhere, deactivate, reactivate, delete. Everything that
 * ends access ends it in every process at once: sessions, grants and refresh tokens are deleted from the shared
 * stores through the account index, and the account's `signInsValidFrom` makes the provider refuse anything older
 * that is still in flight (self-contained JWT access tokens included), so userinfo answers 401, introspection
 * `active: false`, refresh `invalid_grant` and `prompt=none` `login_required` (OWASP ASVS V3.3.1, V3.3.3).
 */
import type { AccountService } from '../accounts/account-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { FactorService } from '../mfa/factor-service.js';
import type { AccountRecord, AppRecord, InvitationRepository } from '../storage/ports.js';
import type { AccountSessions, EndedSignIns } from './account-sessions.js';

/** Who asked: an Admin API key (`actor`), or the person in the account center / account API. */
export interface Requester {
  by: 'admin' | 'account';
  actor?: string;
  ip?: string;
}

export class Offboarding {
  constructor(private readonly deps: {
    accounts: AccountService; sessions: AccountSessions; factors: FactorService; audit: AuditLog; invitations: Pick<InvitationRepository, 'list' | 'update'>;
  }) {}

  /** Ends one session; false when the account has no such session. */
  async endSession(app: AppRecord, accountId: string, sessionId: string, who: Requester): Promise<boolean> {
    const ended = await this.deps.sessions.endSession(app, accountId, sessionId);
    if (ended) await this.record(app, 'session.revoked', accountId, who, { session: sessionId });
    return ended;
  }

  /** Revokes one connected app's grant with every token issued under it; false when the account holds no such grant. */
  async revokeGrant(app: AppRecord, accountId: string, grantId: string, who: Requester): Promise<boolean> {
    const revoked = await this.deps.sessions.revokeGrant(app, accountId, grantId);
    if (revoked) await this.record(app, 'grant.revoked', accountId, who, { grant: grantId });
    return revoked;
  }

  /**
   * Sign out everywhere: every session, grant and token. With `keep` (a session uid: "everywhere else"), that
   * session and what it issued stay valid; without it, nothing issued before now is honoured any more.
   */
  async signOutEverywhere(app: AppRecord, accountId: string, who: Requester, keep?: string): Promise<EndedSignIns> {
    const ended = await this.endEverything(app, accountId, keep);
    await this.record(app, 'session.revoked', accountId, who, { session: keep ? 'all_others' : 'all', sessions: ended.sessions, grants: ended.grants });
    return ended;
  }

  /** Deactivates the account and ends all its access; idempotent. */
  async deactivate(app: AppRecord, accountId: string, who: Requester): Promise<AccountRecord> {
    const before = await this.deps.accounts.require(app, accountId);
    const account = before.status === 'deactivated' ? before : await this.deps.accounts.update(app, accountId, { status: 'deactivated' });
    return this.afterStatusChange(app, before, account, who);
  }

  /** Lets a deactivated account sign in again (what was ended stays ended); idempotent for active accounts. */
  async reactivate(app: AppRecord, accountId: string, who: Requester): Promise<AccountRecord> {
    const before = await this.deps.accounts.require(app, accountId);
    const account = before.status === 'deactivated' ? await this.deps.accounts.update(app, accountId, { status: 'active' }) : before;
    return this.afterStatusChange(app, before, account, who);
  }

  /**
   * Audit and revocation after any status change (the Admin API's PATCH of `status` comes here too): becoming
   * deactivated ends all access. Answers the account as stored afterwards.
   */
  async afterStatusChange(app: AppRecord, before: AccountRecord, after: AccountRecord, who: Requester): Promise<AccountRecord> {
    if (before.status !== 'deactivated' && after.status === 'deactivated') {
      await this.endEverything(app, after.id);
      await this.record(app, 'account.deactivated', after.id, who);
      return (await this.deps.accounts.find(app, after.id)) ?? after;
    }
    if (before.status === 'deactivated' && after.status !== 'deactivated') await this.record(app, 'account.reactivated', after.id, who);
    return after;
  }

  /**
   * Deletes the account: access ends, the personal data goes (the record with its email, phone and name, its
   * factors, its memberships, the address on its invitations, which are revoked); the audit log keeps
   * `account.deleted` with the id as the tombstone.
   */
  async delete(app: AppRecord, accountId: string, who: Requester): Promise<void> {
    await this.deps.accounts.require(app, accountId);
    await this.endEverything(app, accountId);
    await this.deps.factors.reset(app, accountId, who.by);
    // Invitations are few per app and kept by id, not by account: a scan, only here.
    const invitations = (await this.deps.invitations.list(app.id)).filter((i) => i.accountId === accountId);
    await Promise.all(invitations.map((i) => this.deps.invitations.update(app.id, i.id, { email: 'deleted', status: 'revoked' })));
    await this.deps.accounts.delete(app, accountId);
    await this.record(app, 'account.deleted', accountId, who);
  }

  private async endEverything(app: AppRecord, accountId: string, keep?: string): Promise<EndedSignIns> {
    const ended = await this.deps.sessions.endAll(app, accountId, { keep });
    // Without a session to keep, nothing from before counts any more: also what is in flight in another process.
    if (!keep) await this.deps.accounts.endAllSignIns(app, accountId);
    return ended;
  }

  private record(app: AppRecord, type: string, accountId: string, who: Requester, detail: Record<string, string | number> = {}): Promise<void> {
    return this.deps.audit.record(app, type, { accountId, actor: who.actor, ip: who.ip, detail: { by: who.by, ...detail } });
  }
}
