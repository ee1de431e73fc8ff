/**
 * One-time login hand-off: a person who proved who they are outside any authorization request (accepting an
 * invitation, confirming a sign-in link on another device) is sent to the relying party, and the authorization
 * request it starts completes without asking for a password again.
 *
 * OIDC Core §4 (initiating login from a third party): the browser goes to the client's `initiate_login_uri` (or the
 * app's `invitation_landing_uri`) with `iss` and `login_hint`; the client starts an ordinary authorization request;
 * its login prompt finds the hand-off and signs the person in. The hand-off is a random 256-bit token in an
 * HttpOnly, SameSite=Lax cookie on the app's path, stored hashed in the ephemeral store: single use, 10 minutes,
 * usable only by the browser that received it.
 */
import type { Context } from 'koa';
import { randomId, sha256 } from '../src/crypto/random.js';
import type { AppRecord, EphemeralStore } from '../src/storage/ports.js';
import type { PooledProvider } from '../src/provider/provider-pool.js';
import type { Step } from './context.js';
import { continueSignIn, selectionRequested, type SequenceDeps } from './sign-in-sequence.js';
import { LINK_TOKEN_PATTERN } from './emailed-link.js';

export const HANDOFF_COOKIE = 'portcullis_handoff';
export const HANDOFF_TTL_SECONDS = 600;

export interface Handoff {
  /** Accounts the person proved control of (several when an email maps to several: they choose at sign-in). */
  accountIds: string[];
  /** RFC 8176 values, passed on to the login (`amr` of the ID token). */
  amr: string[];
  /** Tenant to preselect (an invitation into a tenant). */
  tenantId?: string;
  /** The client the person is sent to, when there is one (audit only: any client of the app may continue). */
  clientId?: string;
  reason: 'invitation' | 'magic_link';
}

export interface HandoffDeps extends SequenceDeps {
  ephemeral: EphemeralStore;
}

const keyOf = (app: Pick<AppRecord, 'id'>, token: string) => `app:${app.id}:handoff:${sha256(token)}`;
const cookiePath = (app: Pick<AppRecord, 'slug'>) => `/apps/${app.slug}`;

/** Stores the hand-off and gives this browser its cookie. */
export async function startHandoff(ctx: Context, ephemeral: EphemeralStore, app: AppRecord, handoff: Handoff): Promise<void> {
  const token = randomId(32);
  await ephemeral.set(keyOf(app, token), handoff, HANDOFF_TTL_SECONDS);
  // `signed: false` always: the value is an unguessable token, and the server may run with Koa keys (the demo).
  ctx.cookies.set(HANDOFF_COOKIE, token, {
    path: cookiePath(app), httpOnly: true, sameSite: 'lax', maxAge: HANDOFF_TTL_SECONDS * 1000, overwrite: true, signed: false,
  });
}

/**
 * On the login prompt of an interaction: when this browser holds a valid hand-off, uses it up and continues the
 * sign-in with it (account choice, tenant, consent, finish). False when there is none: show the sign-in page.
 */
export async function signInWithHandoff(step: Step, deps: HandoffDeps): Promise<boolean> {
  const token = step.ctx.cookies.get(HANDOFF_COOKIE, { signed: false });
  if (!token) return false;
  step.ctx.cookies.set(HANDOFF_COOKIE, null, { path: cookiePath(step.app), httpOnly: true, sameSite: 'lax', overwrite: true, signed: false });
  if (!LINK_TOKEN_PATTERN.test(token)) return false;
  // Single use: of two tabs racing, one takes it and the other shows the sign-in page.
  const handoff = await deps.ephemeral.take<Handoff>(keyOf(step.app, token));
  if (!handoff) return false;
  const accounts = await Promise.all(handoff.accountIds.map((id) => deps.accounts.find(step.app, id)));
  const accountIds = accounts.filter((a) => a?.status === 'active').map((a) => a!.id);
  if (accountIds.length === 0) return false;

  let tenantId: string | undefined;
  // The invited tenant, unless the request asked for another tenant or for the chooser.
  if (handoff.tenantId && accountIds.length === 1 && !step.interaction.params.tenant && !selectionRequested(step)) {
    if (await deps.tenants.membership(step.app, handoff.tenantId, accountIds[0])) tenantId = handoff.tenantId;
  }
  await deps.audit.record(step.app, 'sign_in.handoff_used', { ip: step.ctx.state.ip, detail: { reason: handoff.reason, client_id: step.client.clientId } });
  await continueSignIn(step, deps, { accountIds, amr: handoff.amr, fresh: true, ...(tenantId ? { tenantId } : {}) }, 'render');
  return true;
}

/**
 * Where the browser goes after a hand-off (OIDC Core §4): the client's `initiate_login_uri`, else the app's
 * `invitation_landing_uri`, with `iss` (required) and `login_hint`; undefined when the app has neither.
 */
export async function landingUri(pooled: PooledProvider, clientId: string | undefined, loginHint: string | undefined): Promise<string | undefined> {
  const client = clientId ? await pooled.provider.Client.find(clientId) : undefined;
  const base = (client?.metadata().initiate_login_uri as string | undefined) ?? pooled.app.settings.invitation_landing_uri;
  if (!base) return undefined;
  const url = new URL(base);
  url.searchParams.set('iss', pooled.provider.issuer);
  if (loginHint) url.searchParams.set('login_hint', loginHint);
  return url.href;
}

/** Starts the hand-off and sends the browser on (303): to the landing URI, or to the "you are signed in" page. */
export async function handOff(ctx: Context, pooled: PooledProvider, ephemeral: EphemeralStore, handoff: Handoff, loginHint?: string): Promise<void> {
  // A browser signed in as somebody else: that session ends here, so the person who just proved who they are is the
  // one signed in (the provider would otherwise answer the relying party with the other account).
  const session = await pooled.provider.Session.get(ctx as never);
  if (session.accountId && !handoff.accountIds.includes(session.accountId)) await session.destroy();
  await startHandoff(ctx, ephemeral, pooled.app, handoff);
  const landing = await landingUri(pooled, handoff.clientId, loginHint);
  ctx.status = 303;
  ctx.redirect(landing ?? `${cookiePath(pooled.app)}/signed-in`);
}
