/**
 * Signing in at an upstream identity provider ("Continue with Google", a customer organisation's own IdP): the app
 * is an OpenID Connect relying party of the connection's issuer (`src/connections/`).
 *
 * - Start: a fresh `state`, `nonce` and PKCE verifier (OIDC Core §3.1.2.1, RFC 7636 S256) are saved on this
 *   interaction, and the state is also recorded for the shared callback URL, then the browser goes to the upstream.
 * - Callback `/apps/{slug}/connections/{connection}/callback`: the state names the interaction, and the browser is
 *   sent on to that interaction's own callback path, where only the browser holding the interaction's cookie gets
 *   further. There the state must equal the one saved on the interaction (RFC 6749 §10.12, RFC 9700 §4.7: no login
 *   CSRF, a callback cannot be replayed into another person's sign-in) and is used up before the code is exchanged,
 *   so a replayed callback finds nothing.
 * - The ID token is validated by openid-client; the identity becomes an account by `upstream-accounts.ts`.
 * Every attempt is audited (`upstream.started`, `upstream.succeeded`, `upstream.failed` with the reason); people
 * only see one of a few pages, each with a way back to the sign-in page.
 */
import { randomBytes } from 'node:crypto';
import { safeEqual, sha256 } from '../../crypto/random.js';
import { callbackUri, type ConnectionService } from '../../connections/connection-service.js';
import type { UpstreamAccounts } from '../../connections/upstream-accounts.js';
import { UpstreamProblem, type UpstreamClients, type UpstreamProblemKind } from '../../connections/upstream-client.js';
import type { ConnectionRecord, TenantRecord } from '../../storage/ports.js';
import { shortLivedKey } from '../../storage/short-lived-keys.js';
import { LIMITS } from '../../limits/rate-limiter.js';
import type { Attempt, Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { afterProof } from '../sequence.js';
import { tooMany } from '../sign-in-page.js';

export const upstreamMethod: SignInMethod = {
  id: 'upstream',
  identifier: 'none',
  // RFC 8176 has no value for "federated"; a private value is allowed (RFC 8176 §1), as for partner links.
  amr: ['fed'],
  secondFactor: false,
  enabled: () => true,
  views: ['upstream-error', 'upstream-no-account'],
};

export interface UpstreamDeps extends Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors' | 'ephemeral' | 'limiter' | 'ipPerHour'> {
  connections: ConnectionService;
  upstreamClients: UpstreamClients;
  upstreamAccounts: UpstreamAccounts;
}

/** How long a person may take at the upstream before its answer is no longer accepted. */
const STATE_TTL_SECONDS = 15 * 60;

const random = () => randomBytes(32).toString('base64url');
const stateKey = (appId: string, state: string) => shortLivedKey(appId, 'upstream-state', sha256(state));

/** The kinds of page a person may see. */
export type UpstreamPageKind = UpstreamProblemKind | 'bad_state' | 'not_offered' | 'rate_limited';

const STATUS: Record<UpstreamPageKind, number> = {
  unreachable: 503, denied: 400, error: 400, invalid: 400, bad_state: 400, not_offered: 404, rate_limited: 429,
};

/** The error page; inside an attempt it links back to the sign-in page (no session was made). */
export function upstreamErrorPage(kind: UpstreamPageKind, displayName: string | undefined): Outcome {
  return { kind: 'page', view: 'upstream-error', status: STATUS[kind], locals: { title: '', problem: kind, displayName: displayName ?? '', error: `upstream_${kind}` } };
}

/** The sign-in page's "Continue with …" buttons, and the upstream origins its forms may redirect to (CSP form-action). */
export async function withConnectionButtons(outcome: Outcome | Promise<Outcome>, attempt: Attempt, deps: Pick<UpstreamDeps, 'connections' | 'upstreamClients' | 'tenants'>): Promise<Outcome> {
  const shown = await outcome;
  if (shown.kind !== 'page' || shown.view !== 'login') return shown;
  const enabled = await deps.connections.enabled(attempt.app);
  // Buttons for the app-wide connections; a connection that a tenant owns is reached through its domains (a few
  // indexed lookups, one per enabled connection, rather than reading every tenant of the app).
  const owners = await Promise.all(enabled.map((c) => deps.tenants.findByConnection(attempt.app, c.slug)));
  const owned = new Set(enabled.filter((_, i) => owners[i].length > 0).map((c) => c.slug));
  const buttons = enabled.filter((c) => !owned.has(c.slug)).map((c) => ({ slug: c.slug, displayName: c.displayName }));
  const realms = owners.flat().filter((t) => t.domains?.length);
  const targets = enabled.flatMap((c) => [new URL(c.issuer.replace('{tenantid}', 'common')).origin, deps.upstreamClients.cachedAuthorizationOrigin(c)])
    .filter((o): o is string => Boolean(o));
  return {
    ...shown,
    locals: { ...shown.locals, connections: buttons, homeRealms: realms.length > 0 },
    formTargets: [...new Set([...(shown.formTargets ?? []), ...targets])],
  };
}

/** "Continue with …": the connection must be enabled in this app. */
export async function startUpstream(attempt: Attempt, deps: UpstreamDeps, slug: string, loginHint?: string): Promise<Outcome> {
  const connection = await deps.connections.find(attempt.app, slug);
  if (!connection?.enabled) return upstreamErrorPage('not_offered', undefined);
  return redirectToUpstream(attempt, deps, connection, loginHint);
}

async function redirectToUpstream(attempt: Attempt, deps: UpstreamDeps, connection: ConnectionRecord, loginHint?: string): Promise<Outcome> {
  // Each start costs the upstream a discovery and the store a record: capped per IP like sends (OWASP ASVS V2.2.1).
  const limited = await deps.limiter.hit(attempt.app.id, LIMITS.sendsPerIp(deps.ipPerHour), `upstream|${attempt.ip ?? 'unknown'}`);
  if (limited) return tooMany(upstreamErrorPage('rate_limited', connection.displayName), limited.retryAfterSeconds);
  const checks = { state: random(), nonce: random(), codeVerifier: random() };
  let url: URL;
  try {
    url = await deps.upstreamClients.authorizationUrl(connection, callbackUri(attempt.issuer, connection.slug), checks, loginHint);
  } catch (err) {
    if (!(err instanceof UpstreamProblem)) throw err;
    await deps.audit.record(attempt.app, 'upstream.failed', { ip: attempt.ip, detail: { connection: connection.slug, reason: err.reason, client_id: attempt.client.clientId } });
    return upstreamErrorPage(err.kind, connection.displayName);
  }
  await Promise.all([
    attempt.save({ upstream: { connection: connection.slug, ...checks } }),
    deps.ephemeral.set(stateKey(attempt.app.id, checks.state), { uid: attempt.uid, connection: connection.slug }, STATE_TTL_SECONDS),
    deps.audit.record(attempt.app, 'upstream.started', { ip: attempt.ip, detail: { connection: connection.slug, client_id: attempt.client.clientId } }),
  ]);
  return { kind: 'redirect', to: url.href };
}

/**
 * The shared callback: which interaction this `state` was issued to, used up (a second callback with the same state
 * finds nothing). Undefined for an unknown, expired or used state, or one issued for another connection.
 */
export async function interactionOfState(deps: Pick<UpstreamDeps, 'ephemeral'>, appId: string, connection: string, state: string | undefined): Promise<string | undefined> {
  if (!state || state.length > 200) return undefined;
  const owner = await deps.ephemeral.take<{ uid: string; connection: string }>(stateKey(appId, state));
  return owner && owner.connection === connection ? owner.uid : undefined;
}

/** The callback on the interaction's own path: checks the state, exchanges the code, finds the account, goes on. */
export async function finishUpstream(attempt: Attempt, deps: UpstreamDeps, slug: string, params: Record<string, string>): Promise<Outcome> {
  const pending = attempt.state.upstream;
  const connection = await deps.connections.find(attempt.app, slug);
  const fail = async (kind: UpstreamPageKind, reason: string) => {
    await deps.audit.record(attempt.app, 'upstream.failed', { ip: attempt.ip, detail: { connection: slug.slice(0, 63), reason, client_id: attempt.client.clientId } });
    return upstreamErrorPage(kind, connection?.displayName);
  };
  if (!pending || pending.connection !== slug || !params.state || !safeEqual(pending.state, params.state)) return fail('bad_state', pending ? 'state_mismatch' : 'no_pending_sign_in');
  // Used up before anything else: the same callback twice finds no pending sign-in.
  await attempt.save({ upstream: undefined });
  if (!connection?.enabled) return fail('not_offered', 'connection_disabled');
  const callback = new URL(callbackUri(attempt.issuer, slug));
  for (const [k, v] of Object.entries(params)) callback.searchParams.set(k, v);
  try {
    const signIn = await deps.upstreamClients.exchange(connection, callback, pending);
    const resolution = await deps.upstreamAccounts.resolve(attempt.app, connection, signIn);
    if (resolution.kind === 'no_account') {
      await deps.audit.record(attempt.app, 'upstream.failed', { ip: attempt.ip, detail: { connection: slug, reason: resolution.reason, client_id: attempt.client.clientId } });
      return { kind: 'page', view: 'upstream-no-account', status: 403, locals: { title: '', displayName: connection.displayName } };
    }
    await deps.audit.record(attempt.app, 'upstream.succeeded', {
      accountId: resolution.accountIds.length === 1 ? resolution.accountIds[0] : undefined, tenantId: resolution.tenantId, ip: attempt.ip,
      detail: { connection: slug, how: resolution.how, client_id: attempt.client.clientId },
    });
    return afterProof(attempt, deps, { accountIds: resolution.accountIds, amr: [...upstreamMethod.amr], tenantId: resolution.tenantId }, 'redirect');
  } catch (err) {
    if (!(err instanceof UpstreamProblem)) throw err;
    return fail(err.kind, err.reason);
  }
}

/** The domain of an email address typed as the identifier, lower-cased; undefined for anything else. */
function domainOf(identifier: string): string | undefined {
  const at = identifier.lastIndexOf('@');
  const domain = at > 0 ? identifier.slice(at + 1).trim().toLowerCase() : '';
  return /^[a-z0-9.-]{1,253}$/.test(domain) && domain.includes('.') ? domain : undefined;
}

/** The tenant's connection when it sends its people there: enabled, and the tenant does not also allow passwords (or none was typed). */
async function realmConnection(attempt: Attempt, deps: UpstreamDeps, tenant: TenantRecord | undefined, passwordTyped: boolean): Promise<ConnectionRecord | undefined> {
  if (!tenant?.connection || (tenant.allowPassword && passwordTyped)) return undefined;
  const connection = await deps.connections.find(attempt.app, tenant.connection);
  return connection?.enabled ? connection : undefined;
}

/**
 * Home realm discovery: an identifier in a domain a tenant owns goes to that tenant's IdP instead of any password
 * check, code or link (the same answer whether or not an account exists). `otherWay`: the person typed a password
 * or asked for a code or link, which a tenant with `allow_password` lets them use. Undefined when the identifier is
 * not in such a domain.
 */
export async function homeRealm(attempt: Attempt, deps: UpstreamDeps, identifier: string | undefined, otherWay: boolean): Promise<Outcome | undefined> {
  const domain = identifier ? domainOf(identifier) : undefined;
  if (!domain) return undefined;
  const tenant = await deps.tenants.findByDomain(attempt.app, domain);
  const connection = await realmConnection(attempt, deps, tenant, otherWay);
  return connection ? redirectToUpstream(attempt, deps, connection, identifier!.trim()) : undefined;
}

/** `tenant=` on the authorization request names a tenant with its own IdP: straight there, without the sign-in page. */
export async function requestedRealm(attempt: Attempt, deps: UpstreamDeps): Promise<Outcome | undefined> {
  const requested = attempt.request.tenant;
  if (!requested || attempt.promptName !== 'login' || attempt.state.progress) return undefined;
  const tenant = await deps.tenants.find(attempt.app, requested);
  const connection = await realmConnection(attempt, deps, tenant, true);
  return connection ? redirectToUpstream(attempt, deps, connection, attempt.request.loginHint) : undefined;
}
