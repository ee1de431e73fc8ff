/**
 * One-time login hand-off: a person who proved who they are outside any authorization request (accepting an
 * invitation, confirming a sign-in link on another device) is sent to the relying party, and the authorization
 * request it starts completes without asking again.
 *
 * OIDC Core §4: the browser goes to the client's `initiate_login_uri` (or the app's `invitation_landing_uri`); the
 * client starts an ordinary authorization request; its login prompt finds the hand-off and signs the person in. The
 * hand-off is a random 256-bit token in an HttpOnly, SameSite=Lax cookie on the app's path (set by the web layer),
 * stored hashed: single use, `lifetimes.handoff`, usable only by the browser that received it.
 */
import { randomId, sha256 } from '../crypto/random.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import { selectionRequested, type AppVisit, type Attempt, type Outcome, type Proof } from './attempt.js';
import type { SignInDeps } from './deps.js';
import { landingUri } from './landing.js';
import { afterProof } from './sequence.js';
import { LINK_TOKEN_PATTERN } from './link-token.js';

export interface Handoff extends Proof {
  /** The client the person is sent to, when there is one (audit only: any client of the app may continue). */
  clientId?: string;
  reason: 'invitation' | 'magic_link' | 'partner_link';
  /** The login_hint the landing URI carries (kept so a later step can rebuild it). */
  loginHint?: string;
}

type Deps = Pick<SignInDeps, 'ephemeral' | 'lifetimes'>;

/** Stores the hand-off; the outcome tells the web layer to give this browser its cookie and where to send it. */
export async function handOff(visit: AppVisit, deps: Deps, handoff: Handoff, loginHint?: string): Promise<Outcome> {
  const token = randomId(32);
  await deps.ephemeral.set(shortLivedKey(visit.app.id, 'handoff', sha256(token)), { ...handoff, loginHint }, deps.lifetimes.handoff);
  const landing = await landingUri(visit, handoff.clientId, loginHint);
  return { kind: 'handoff', token, ttlSeconds: deps.lifetimes.handoff, accountIds: handoff.accountIds, to: landing ?? `/apps/${visit.app.slug}/signed-in` };
}

/** The hand-off this browser holds, without using it up (a step before the landing page reads it). */
export async function peekHandoff(visit: AppVisit, deps: Deps, token: string): Promise<Handoff | undefined> {
  if (!LINK_TOKEN_PATTERN.test(token)) return undefined;
  return deps.ephemeral.get<Handoff>(shortLivedKey(visit.app.id, 'handoff', sha256(token)));
}

/** Uses a hand-off up without signing anyone in (the person chose to stay signed in as someone else). */
export async function discardHandoff(visit: AppVisit, deps: Deps, token: string): Promise<void> {
  if (LINK_TOKEN_PATTERN.test(token)) await deps.ephemeral.delete(shortLivedKey(visit.app.id, 'handoff', sha256(token)));
}

/**
 * On the login prompt of an attempt: when the browser holds a valid hand-off token, uses it up and continues the
 * sign-in with it (account choice, tenant, consent, finish). Undefined when there is none: show the sign-in page.
 */
export async function continueHandoff(attempt: Attempt, deps: Deps & Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors'>, token: string): Promise<Outcome | undefined> {
  if (!LINK_TOKEN_PATTERN.test(token)) return undefined;
  // Single use: of two tabs racing, one takes it and the other shows the sign-in page.
  const handoff = await deps.ephemeral.take<Handoff>(shortLivedKey(attempt.app.id, 'handoff', sha256(token)));
  if (!handoff) return undefined;
  const accounts = await Promise.all(handoff.accountIds.map((id) => deps.accounts.find(attempt.app, id)));
  const accountIds = accounts.filter((a) => a?.status === 'active').map((a) => a!.id);
  if (accountIds.length === 0) return undefined;

  let tenantId: string | undefined;
  // The invited tenant, unless the request asked for another tenant or for the chooser.
  if (handoff.tenantId && accountIds.length === 1 && !attempt.request.tenant && !selectionRequested(attempt.request)) {
    if (await deps.tenants.membership(attempt.app, handoff.tenantId, accountIds[0])) tenantId = handoff.tenantId;
  }
  await deps.audit.record(attempt.app, 'sign_in.handoff_used', { ip: attempt.ip, detail: { reason: handoff.reason, client_id: attempt.client.clientId } });
  return afterProof(attempt, deps, { accountIds, amr: handoff.amr, tenantId }, 'render');
}
