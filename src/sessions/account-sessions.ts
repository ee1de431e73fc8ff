/**
 * The browser sessions, grants ("connected apps") and refresh tokens of one account, read through the stores'
 * account index (one lookup each, see `OidcAccountIndex`), and ended the way oidc-provider itself ends them: a
 * session record destroyed, a grant revoked with every token issued under it (`revokeGrant`).
 *
 * Session ids shown outside are the session's `uid` (what `sid` claims are derived from), never its record id: the
 * record id is the value of the browser's session cookie.
 */
import type { AdapterPayload } from 'oidc-provider';
import type { AppRecord, OidcAccountIndex, OidcAdapterFactory, OidcRecordRef } from '../storage/ports.js';
import { revokeGrant } from '../provider/reuse-revocation.js';
import { tenantOfGrantPayload } from '../provider/tenant-grant.js';
import type { SessionDetailsStore } from './session-details.js';
import { describeUserAgent, methodOfAmr } from './user-agent.js';

interface SessionAuthorization {
  sid?: string;
  grantId?: string;
  persistsLogout?: boolean;
}

export interface AccountSession {
  /** The session's uid. */
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt?: Date;
  method: string;
  amr: string[];
  ip?: string;
  userAgent?: string;
  browser?: string;
  os?: string;
  /** Clients signed in through this session. */
  clientIds: string[];
  /** `sid` per client (the ID token's `sid` claim): how a client recognises its own session ("this device"). */
  sids: Record<string, string>;
  /** Grant ids of the session's authorizations. */
  grantIds: string[];
}

export interface AccountGrant {
  id: string;
  clientId: string;
  scopes: string[];
  tenantId?: string;
  createdAt: Date;
  expiresAt?: Date;
}

export interface EndedSignIns {
  sessions: number;
  grants: number;
  refreshTokens: number;
}

const seconds = (value: unknown): Date | undefined => (typeof value === 'number' ? new Date(value * 1000) : undefined);

export class AccountSessions {
  constructor(
    private readonly index: OidcAccountIndex,
    private readonly adapters: OidcAdapterFactory,
    private readonly details: SessionDetailsStore,
  ) {}

  /** Active browser sessions of the account, newest sign-in first. */
  async sessions(app: AppRecord, accountId: string): Promise<AccountSession[]> {
    const records = await this.index.listByAccount(app.id, 'Session', accountId);
    const sessions = await Promise.all(records.filter((r) => typeof r.payload.uid === 'string').map((r) => this.present(app, r.payload)));
    return sessions.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  async session(app: AppRecord, accountId: string, sessionId: string): Promise<AccountSession | undefined> {
    return (await this.sessions(app, accountId)).find((s) => s.id === sessionId);
  }

  /** Grants of the account (one per client and sign-in), oldest first. */
  async grants(app: AppRecord, accountId: string): Promise<AccountGrant[]> {
    const records = await this.index.listByAccount(app.id, 'Grant', accountId);
    return records.map(presentGrant).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /**
   * Signs one session out: the session record goes, and with it the grants of its authorizations (their refresh and
   * access tokens). False when the account has no such session.
   */
  async endSession(app: AppRecord, accountId: string, sessionId: string): Promise<boolean> {
    const record = (await this.index.listByAccount(app.id, 'Session', accountId)).find((r) => r.payload.uid === sessionId);
    if (!record) return false;
    await this.destroySession(app, record);
    return true;
  }

  /** Revokes one grant and every token issued under it. False when the account has no such grant. */
  async revokeGrant(app: AppRecord, accountId: string, grantId: string): Promise<boolean> {
    const found = (await this.index.listByAccount(app.id, 'Grant', accountId)).some((r) => r.id === grantId);
    if (!found) return false;
    await revokeGrant(this.adapters(app.id), grantId);
    return true;
  }

  /** Revokes the grants issued for a sign-in to this tenant (the person was removed from it). */
  async revokeTenantGrants(app: AppRecord, accountId: string, tenantId: string): Promise<number> {
    const grants = (await this.index.listByAccount(app.id, 'Grant', accountId)).filter((r) => tenantOfGrantPayload(r.payload) === tenantId);
    const adapters = this.adapters(app.id);
    await Promise.all(grants.map((g) => revokeGrant(adapters, g.id)));
    return grants.length;
  }

  /**
   * Ends every session, grant and refresh token of the account, except the session `keep` (its uid) and what was
   * issued through it ("sign out everywhere else").
   */
  async endAll(app: AppRecord, accountId: string, options: { keep?: string } = {}): Promise<EndedSignIns> {
    const adapters = this.adapters(app.id);
    const sessions = await this.index.listByAccount(app.id, 'Session', accountId);
    const kept = sessions.find((s) => options.keep !== undefined && s.payload.uid === options.keep);
    const keptGrants = new Set(kept ? authorizationsOf(kept.payload).map((a) => a.grantId).filter((g): g is string => Boolean(g)) : []);
    const ending = sessions.filter((s) => s !== kept);
    await Promise.all(ending.map((s) => this.destroySession(app, s, keptGrants)));
    const grants = (await this.index.listByAccount(app.id, 'Grant', accountId)).filter((g) => !keptGrants.has(g.id));
    await Promise.all(grants.map((g) => revokeGrant(adapters, g.id)));
    // Refresh tokens whose grant is already gone (or never was indexed) are destroyed one by one.
    const tokens = (await this.index.listByAccount(app.id, 'RefreshToken', accountId)).filter((t) => !keptGrants.has(String(t.payload.grantId)));
    await Promise.all(tokens.map((t) => adapters('RefreshToken').destroy(t.id)));
    return { sessions: ending.length, grants: grants.length, refreshTokens: tokens.length };
  }

  private async destroySession(app: AppRecord, record: OidcRecordRef, spare: ReadonlySet<string> = new Set()): Promise<void> {
    const adapters = this.adapters(app.id);
    const grantIds = authorizationsOf(record.payload).map((a) => a.grantId).filter((g): g is string => Boolean(g) && !spare.has(g!));
    await Promise.all([
      adapters('Session').destroy(record.id),
      ...grantIds.map((grantId) => revokeGrant(adapters, grantId)),
      typeof record.payload.uid === 'string' ? this.details.forget(app.id, record.payload.uid) : undefined,
    ]);
  }

  private async present(app: AppRecord, payload: AdapterPayload): Promise<AccountSession> {
    const uid = payload.uid as string;
    const details = await this.details.find(app.id, uid);
    const loginTs = typeof payload.loginTs === 'number' ? payload.loginTs : (payload.iat as number | undefined);
    // Details written for an earlier sign-in in the same browser session describe another sign-in: not shown.
    const current = details && (details.loginTs === undefined || details.loginTs === loginTs) ? details : undefined;
    const authorizations = Object.entries((payload.authorizations ?? {}) as Record<string, SessionAuthorization>);
    const amr = Array.isArray(payload.amr) ? (payload.amr as string[]) : [];
    const createdAt = seconds(loginTs) ?? new Date();
    return {
      id: uid,
      createdAt,
      lastUsedAt: seconds(details?.lastUsedAt) ?? createdAt,
      expiresAt: seconds(payload.exp),
      method: methodOfAmr(amr),
      amr,
      ip: current?.ip,
      userAgent: current?.userAgent,
      ...describeUserAgent(current?.userAgent),
      clientIds: authorizations.map(([clientId]) => clientId),
      sids: Object.fromEntries(authorizations.filter(([, a]) => a.sid).map(([clientId, a]) => [clientId, a.sid!])),
      grantIds: authorizations.map(([, a]) => a.grantId).filter((g): g is string => Boolean(g)),
    };
  }
}

function authorizationsOf(payload: AdapterPayload): SessionAuthorization[] {
  return Object.values((payload.authorizations ?? {}) as Record<string, SessionAuthorization>);
}

function presentGrant(record: OidcRecordRef): AccountGrant {
  const { payload } = record;
  const openid = payload.openid as { scope?: string } | undefined;
  const resources = (payload.resources ?? {}) as Record<string, string>;
  const scopes = new Set([...(openid?.scope?.split(' ') ?? []), ...Object.values(resources).flatMap((s) => s.split(' '))].filter(Boolean));
  const tenantId = tenantOfGrantPayload(payload);
  return {
    id: record.id,
    clientId: String(payload.clientId),
    scopes: [...scopes],
    ...(tenantId ? { tenantId } : {}),
    createdAt: seconds(payload.iat) ?? new Date(0),
    expiresAt: seconds(payload.exp),
  };
}

/** The API view of a session (Admin API and account API). */
export function presentSession(session: AccountSession, current?: boolean) {
  return {
    id: session.id,
    created_at: session.createdAt.toISOString(),
    last_used_at: session.lastUsedAt.toISOString(),
    expires_at: session.expiresAt?.toISOString() ?? null,
    method: session.method,
    amr: session.amr,
    ip: session.ip ?? null,
    user_agent: session.userAgent ?? null,
    browser: session.browser ?? null,
    os: session.os ?? null,
    clients: session.clientIds,
    ...(current === undefined ? {} : { current }),
  };
}

export function presentGrantView(grant: AccountGrant) {
  return {
    id: grant.id,
    client_id: grant.clientId,
    scopes: grant.scopes,
    tenant_id: grant.tenantId ?? null,
    created_at: grant.createdAt.toISOString(),
    expires_at: grant.expiresAt?.toISOString() ?? null,
  };
}
