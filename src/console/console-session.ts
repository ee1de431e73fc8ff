/**
 * Server-side console sessions. The browser holds only a random 256-bit token (an HttpOnly, SameSite=Lax cookie
 * limited to `/console`); the ephemeral store holds the session under the token's SHA-256, so a store read never
 * yields a working cookie (OWASP ASVS V3.2). Each session has its own CSRF token, checked on every form post
 * (synchroniser token pattern, OWASP CSRF Prevention Cheat Sheet), and ends at sign-out or after `SESSION_SECONDS`.
 * A once-shown notice (a new client secret) waits in its own record and is taken by the next page.
 */
import { randomId, safeEqual, sha256 } from '../crypto/random.js';
import type { EphemeralStore } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';

export const SESSION_SECONDS = 8 * 3600;
/** A sign-in started at /console/login must come back within this time. */
export const FLOW_SECONDS = 600;

export interface ConsoleSession {
  accountId: string;
  /** For the provider's end-session request (OIDC RP-Initiated Logout §2 `id_token_hint`). */
  idToken: string;
  csrf: string;
}

export interface ConsoleFlow {
  verifier: string;
  nonce: string;
  /** Binds the flow to the browser that started it (a cookie), so a stolen `state` cannot be finished elsewhere. */
  browser: string;
}

/** What a page shows once after a change: a catalogue key, and maybe a secret to read now or never. */
export interface ConsoleFlash {
  notice: string;
  secret?: { label: string; value: string };
}

export class ConsoleSessions {
  constructor(private readonly ephemeral: EphemeralStore, private readonly appId: () => Promise<string>) {}

  private async key(kind: 'console-session' | 'console-flow' | 'console-flash', id: string): Promise<string> {
    return shortLivedKey(await this.appId(), kind, sha256(id));
  }

  /** Starts a session; returns the cookie's token. */
  async start(accountId: string, idToken: string): Promise<string> {
    const token = randomId(32);
    await this.ephemeral.set(await this.key('console-session', token), { accountId, idToken, csrf: randomId(24) } satisfies ConsoleSession, SESSION_SECONDS);
    return token;
  }

  async find(token: string | undefined): Promise<ConsoleSession | undefined> {
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    return this.ephemeral.get<ConsoleSession>(await this.key('console-session', token));
  }

  async end(token: string): Promise<void> {
    await this.ephemeral.delete(await this.key('console-session', token));
    await this.ephemeral.delete(await this.key('console-flash', token));
  }

  csrfMatches(session: ConsoleSession, sent: string | undefined): boolean {
    return typeof sent === 'string' && sent.length > 0 && safeEqual(sent, session.csrf);
  }

  async flash(token: string, flash: ConsoleFlash): Promise<void> {
    await this.ephemeral.set(await this.key('console-flash', token), flash, 300);
  }

  async takeFlash(token: string): Promise<ConsoleFlash | undefined> {
    return this.ephemeral.take<ConsoleFlash>(await this.key('console-flash', token));
  }

  async startFlow(state: string, flow: ConsoleFlow): Promise<void> {
    await this.ephemeral.set(await this.key('console-flow', state), flow, FLOW_SECONDS);
  }

  /** The flow of `state`, once (single use). */
  async takeFlow(state: string): Promise<ConsoleFlow | undefined> {
    return this.ephemeral.take<ConsoleFlow>(await this.key('console-flow', state));
  }
}
