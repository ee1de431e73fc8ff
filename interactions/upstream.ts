/**
 * Upstream identity providers (`src/sign-in/methods/upstream.ts`): "Continue with …" (a form on the sign-in page),
 * the shared callback `/connections/{connection}/callback` registered at the upstream, and the interaction's own
 * callback it forwards to (the interaction cookie is scoped to the interaction's path, so only there does this
 * browser prove it started the sign-in; the shared callback is a page that moves on to it by itself). Home realm discovery is a step of the password route (`login.ts`).
 */
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { form, formOf } from '../src/http/form.js';
import { renderPage } from '../src/http/render-page.js';
import type { ProviderPool } from '../src/provider/provider-pool.js';
import type { Attempt } from '../src/sign-in/attempt.js';
import { finishUpstream, homeRealm, interactionOfState, startUpstream, upstreamErrorPage, type UpstreamDeps } from '../src/sign-in/methods/upstream.js';
import { attemptCsrf, respond, run, type loadAttempt } from './attempt-web.js';
import { ATTEMPT } from './paths.js';

/** Only the parameters an authorization response carries (RFC 6749 §4.1.2, RFC 9207 `iss`), as single bounded strings. */
const CALLBACK_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state'] as const;
function callbackParams(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CALLBACK_PARAMS) {
    const value = ctx.query[name];
    if (typeof value === 'string' && value.length <= 4096) out[name] = value;
  }
  return out;
}

const connectionParam = (ctx: Context) => String(ctx.params.connection ?? '').slice(0, 63);

export function upstreamRoutes(router: Router, attempt: ReturnType<typeof loadAttempt>, pool: ProviderPool, deps: UpstreamDeps): void {
  router.post(`${ATTEMPT}/connections/:connection`, attempt, form(z.object({})), attemptCsrf, run((a, _input, ctx) => startUpstream(a, deps, connectionParam(ctx))));
  router.get(`${ATTEMPT}/connections/:connection/callback`, attempt, run((a, _input, ctx) => finishUpstream(a, deps, connectionParam(ctx), callbackParams(ctx))));
  router.get('/connections/:connection/callback', async (ctx) => {
    const pooled = await pool.get(String(ctx.params.slug));
    const params = callbackParams(ctx);
    const uid = pooled ? await interactionOfState(deps, pooled.app.id, connectionParam(ctx), params.state) : undefined;
    if (!pooled || !uid) {
      if (pooled) await deps.audit.record(pooled.app, 'upstream.failed', { ip: ctx.state.ip as string | undefined, detail: { connection: connectionParam(ctx), reason: 'unknown_state' } });
      const shown = upstreamErrorPage('bad_state', undefined);
      if (shown.kind !== 'page') return;
      return renderPage(ctx, shown.view, { app: pooled?.app, ...shown.locals }, { status: shown.status });
    }
    // A page, not a redirect: the upstream's answer usually ends a chain of redirects that began with a form posted on
    // the upstream's own sign-in page, and browsers apply that page's CSP form-action to every redirect of the chain,
    // which would block the last one, to the relying party. This page starts a new navigation (tested in Chromium).
    const next = `/apps/${pooled.app.slug}/interaction/${uid}/connections/${connectionParam(ctx)}/callback?${new URLSearchParams(params)}`;
    renderPage(ctx, 'upstream-continue', { app: pooled.app, title: '', next });
  });
}

/**
 * A step of the routes of the sign-in page's buttons: an identifier in a domain whose tenant has its own IdP goes
 * there (with or without a password typed), before any password is checked or any code or link sent. `password`:
 * the "Sign in" route (a tenant with `allow_password` keeps a typed password); otherwise a code or link was asked for.
 */
export function homeRealmStep(deps: UpstreamDeps, route: 'password' | 'code_or_link') {
  return async function discoverHomeRealm(ctx: Context, next: Next) {
    const { attempt } = ctx.state.attempt as { attempt: Attempt };
    const { raw } = formOf<Record<string, string>>(ctx);
    const outcome = await homeRealm(attempt, deps, raw.identifier?.slice(0, 320), route === 'code_or_link' || Boolean(raw.password));
    if (outcome) return respond(ctx, outcome);
    await next();
  };
}
