/**
 * Which grants and browser sessions belong to an account, so that a password reset can end all of them
 * (OWASP ASVS v4.0.3 V3.3.3: after a password change or reset, every other session ends, across the application and
 * its relying parties). oidc-provider's Adapter has no "by account" lookup, so this keeps its own index in the
 * ephemeral store.
 *
 * The store has no list type, and a read-modify-write list would lose entries when two sign-ins of one account
 * race. So every entry gets its own key, numbered by an atomic counter: `…:{window}` counts the entries written in
 * a time window of `ttlSeconds`, `…:{window}:{n}` holds entry n. An entry lives `ttlSeconds` (the grant lifetime,
 * REFRESH_TOKEN_TTL_SECONDS), so every live entry was written in the current window or the previous one, and the
 * counter of a window (kept for two windows) says how many keys to read there.
 *
 * Grants are recorded when an interaction finishes a sign-in (`interactions/sign-in-sequence.ts`, awaited). Sessions
 * are recorded from the provider's `session.saved` event (docs/events.md), because on a first sign-in the session
 * does not exist yet when the interaction finishes: the provider creates it while resuming the authorization.
 */
import type Provider from 'oidc-provider';
import type { EphemeralStore } from '../storage/ports.js';

export interface SignInRecord {
  grantId?: string;
  /** The session's `uid`: stable for the session's life, unlike its id (`jti`), which changes at every sign-in. */
  sessionUid?: string;
}

export interface RevokedSignIns {
  grants: number;
  sessions: number;
}

export class AccountSessions {
  constructor(
    private readonly store: EphemeralStore,
    /** How long an entry is kept: the longest a grant lives (REFRESH_TOKEN_TTL_SECONDS). */
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async record(appId: string, accountId: string, entry: SignInRecord): Promise<void> {
    const window = this.window();
    const n = await this.store.increment(this.counterKey(appId, accountId, window), 2 * this.ttlSeconds);
    await this.store.set(this.entryKey(appId, accountId, window, n), entry, this.ttlSeconds);
  }

  /** Every live entry of the account (possibly with repeats). */
  async list(appId: string, accountId: string): Promise<SignInRecord[]> {
    const current = this.window();
    const found: SignInRecord[] = [];
    for (const window of [current - 1, current]) {
      const count = (await this.store.get<number>(this.counterKey(appId, accountId, window))) ?? 0;
      const entries = await Promise.all(
        Array.from({ length: count }, (_, i) => this.store.get<SignInRecord>(this.entryKey(appId, accountId, window, i + 1))),
      );
      for (const entry of entries) if (entry) found.push(entry);
    }
    return found;
  }

  /**
   * Ends every session and revokes every grant of the account with the tokens issued under it (access and refresh
   * tokens, authorization codes), as oidc-provider's own revocation does (lib/helpers/revoke.js). A grant or
   * session that now belongs to someone else (never expected) is left alone.
   */
  async revokeAll(provider: Provider, appId: string, accountId: string): Promise<RevokedSignIns> {
    const entries = await this.list(appId, accountId);
    const grantIds = new Set(entries.map((e) => e.grantId).filter((id): id is string => typeof id === 'string'));
    const sessionUids = new Set(entries.map((e) => e.sessionUid).filter((uid): uid is string => typeof uid === 'string'));
    let grants = 0;
    let sessions = 0;
    for (const grantId of grantIds) {
      const grant = await provider.Grant.find(grantId);
      if (grant && grant.accountId !== accountId) continue;
      await Promise.all([
        provider.AccessToken.revokeByGrantId(grantId),
        provider.RefreshToken.revokeByGrantId(grantId),
        provider.AuthorizationCode.revokeByGrantId(grantId),
        provider.Grant.adapter.destroy(grantId),
      ]);
      if (grant) grants++;
    }
    for (const uid of sessionUids) {
      const session = await provider.Session.findByUid(uid);
      if (!session || session.accountId !== accountId) continue;
      await session.destroy();
      sessions++;
    }
    return { grants, sessions };
  }

  /**
   * Records the sessions of an app's provider as they are signed in to. A session is saved on every authorization
   * request; it is recorded only when it is created or gets a new id, which the provider does at each sign-in
   * (lib/actions/authorization/resume.js), so ordinary requests cost nothing here.
   */
  watch(provider: Provider, appId: string, onError: (err: unknown) => void): void {
    provider.on('session.saved', (session) => {
      const { accountId, uid } = session;
      const signedIn = (session as { new?: boolean }).new === true || Boolean((session as { oldId?: string }).oldId);
      if (!accountId || !signedIn) return;
      this.record(appId, accountId, { sessionUid: uid }).catch(onError);
    });
  }

  private window(): number {
    return Math.floor(this.now() / 1000 / this.ttlSeconds);
  }

  private counterKey(appId: string, accountId: string, window: number): string {
    return `app:${appId}:acct-grants:${accountId}:${window}`;
  }

  private entryKey(appId: string, accountId: string, window: number, n: number): string {
    return `app:${appId}:acct-grants:${accountId}:${window}:${n}`;
  }
}
