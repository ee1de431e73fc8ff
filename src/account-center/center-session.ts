/**
 * The account center's own browser sessions: after its OIDC sign-in, the browser holds an opaque random id in a
 * cookie scoped to `/apps/{slug}/account`; the id names a record in the ephemeral store with the account, the ID
 * token's `sid` and `auth_time`, and the access token the pages act with. A sign-in in progress is a separate
 * record (state, PKCE verifier, nonce), bound to the browser by its own cookie (RFC 9700 §4.7.1: CSRF on the
 * redirect).
 */
import { hmac, randomId, safeEqual } from '../crypto/random.js';
import type { EphemeralStore } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';

export const CENTER_COOKIE = 'pc_account';
export const LOGIN_COOKIE = 'pc_account_login';
const LOGIN_TTL_SECONDS = 600;

export interface CenterSession {
  accountId: string;
  /** The ID token's `sid` (this browser's session at the app, as the center's client sees it). */
  sid?: string;
  /** Epoch seconds of the sign-in (ID token `auth_time`). */
  authTime: number;
  accessToken: string;
  /** One-shot message for the next page (post/redirect/get): a catalogue key, and a support PIN just made. */
  flash?: { notice?: string; pin?: string; recoveryCodes?: string[] };
}

export interface PendingLogin {
  state: string;
  verifier: string;
  nonce: string;
}

export class CenterSessions {
  constructor(private readonly ephemeral: EphemeralStore, private readonly csrfKey: string) {}

  async create(appId: string, session: CenterSession, ttlSeconds: number): Promise<string> {
    const id = randomId(32);
    await this.ephemeral.set(shortLivedKey(appId, 'account-center', id), session, ttlSeconds);
    return id;
  }

  find(appId: string, id: string): Promise<CenterSession | undefined> {
    return this.ephemeral.get<CenterSession>(shortLivedKey(appId, 'account-center', id));
  }

  /** Rewrites the record, keeping what is left of its lifetime. */
  async save(appId: string, id: string, session: CenterSession): Promise<void> {
    const key = shortLivedKey(appId, 'account-center', id);
    const ttl = await this.ephemeral.ttl(key);
    if (ttl && ttl > 0) await this.ephemeral.set(key, session, ttl);
  }

  async end(appId: string, id: string): Promise<void> {
    await this.ephemeral.delete(shortLivedKey(appId, 'account-center', id));
  }

  async beginLogin(appId: string, pending: PendingLogin): Promise<string> {
    const id = randomId(24);
    await this.ephemeral.set(shortLivedKey(appId, 'account-center-login', id), pending, LOGIN_TTL_SECONDS);
    return id;
  }

  takeLogin(appId: string, id: string): Promise<PendingLogin | undefined> {
    return this.ephemeral.take<PendingLogin>(shortLivedKey(appId, 'account-center-login', id));
  }

  /** The CSRF token of a center session: an HMAC of its id (OWASP ASVS V4.2.2), so nothing more is stored. */
  csrf(sessionId: string): string {
    return hmac(this.csrfKey, `account-center:${sessionId}`);
  }

  csrfMatches(sessionId: string, sent: string | undefined): boolean {
    return typeof sent === 'string' && safeEqual(sent, this.csrf(sessionId));
  }
}
