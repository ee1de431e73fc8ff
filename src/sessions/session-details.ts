/**
 * What the account's session list shows beyond oidc-provider's Session record (which persists only its own fields):
 * the IP address and user agent of the sign-in, and when the session was last used for a sign-in to a client.
 * Kept in the ephemeral store by session uid, for as long as the session can live.
 */
import type { EphemeralStore } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';

export interface SessionDetails {
  ip?: string;
  userAgent?: string;
  /** Epoch seconds of the sign-in these details describe (a new sign-in in the session replaces them). */
  loginTs?: number;
  /** Epoch seconds. */
  lastUsedAt: number;
}

/** User agents are kept to this length: enough to recognise a browser, never a way to store much per session. */
const MAX_USER_AGENT = 300;

export class SessionDetailsStore {
  constructor(private readonly ephemeral: EphemeralStore) {}

  async record(appId: string, sessionUid: string, details: SessionDetails, ttlSeconds: number): Promise<void> {
    const value: SessionDetails = { ...details, userAgent: details.userAgent?.slice(0, MAX_USER_AGENT) };
    await this.ephemeral.set(shortLivedKey(appId, 'session-info', sessionUid), value, Math.max(1, Math.ceil(ttlSeconds)));
  }

  async find(appId: string, sessionUid: string): Promise<SessionDetails | undefined> {
    return this.ephemeral.get<SessionDetails>(shortLivedKey(appId, 'session-info', sessionUid));
  }

  async forget(appId: string, sessionUid: string): Promise<void> {
    await this.ephemeral.delete(shortLivedKey(appId, 'session-info', sessionUid));
  }
}
