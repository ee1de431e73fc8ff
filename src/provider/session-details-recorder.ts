/**
 * Records where each browser session was signed in (IP, user agent) and when it was last used, for the account's
 * session list (`sessions/account-sessions.ts`). A provider response hook: after an authorization request that ended
 * in a session with an account, the session's details are written under its uid. A sign-in writes them anew; an
 * authorization answered from an existing session (single sign-on) moves `lastUsedAt`.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ResponseHook } from './response-hooks.js';
import type { AppRecord } from '../storage/ports.js';
import type { SessionDetailsStore } from '../sessions/session-details.js';
import { clientIp } from '../http/client-ip.js';

const AUTHORIZATION_ROUTES = new Set(['authorization', 'resume']);

interface RecorderOptions {
  trustProxy: boolean;
  sessionTtl: (loginTs: number | undefined) => number;
}

export function recordSessionDetails(app: AppRecord, details: SessionDetailsStore, options: RecorderOptions): ResponseHook {
  return (ctx) => {
    const session = ctx.oidc?.session;
    if (!session?.accountId || !session.uid || !AUTHORIZATION_ROUTES.has(ctx.oidc.route) || ctx.status >= 400) return undefined;
    return record(ctx, session.uid, session.loginTs, app, details, options);
  };
}

async function record(ctx: KoaContextWithOIDC, uid: string, loginTs: number | undefined, app: AppRecord, details: SessionDetailsStore, options: RecorderOptions): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const signedInNow = Boolean((ctx.oidc as { result?: { login?: unknown } }).result?.login);
  const known = signedInNow ? undefined : await details.find(app.id, uid);
  await details.record(app.id, uid, {
    ip: known ? known.ip : clientIp(ctx as never, options.trustProxy),
    userAgent: known ? known.userAgent : ctx.get('user-agent') || undefined,
    loginTs,
    lastUsedAt: now,
  }, options.sessionTtl(loginTs));
}
