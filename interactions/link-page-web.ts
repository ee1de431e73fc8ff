/**
 * The web side of pages reached from a link in an email (invitation, sign-in link opened on another device,
 * password reset): they belong to an app but to no interaction, so the CSRF token is bound to the link's token
 * instead of an interaction uid (OWASP ASVS V4.2.2).
 *
 * Forms that sign the browser in are also bound to this browser: bound to the link alone, anyone holding a link
 * could read the token off the page and make someone else's browser post the form (login CSRF). The per-browser
 * cookie is SameSite=Lax, so a cross-site post never carries it (double-submit cookie).
 */
import type { Context, Next } from 'koa';
import { hmac, randomId, safeEqual, sha256 } from '../src/crypto/random.js';
import { ForbiddenError, NotFoundError } from '../src/errors.js';
import { formOf } from '../src/http/form.js';
import { renderPage } from '../src/http/render-page.js';
import type { PooledProvider, ProviderPool } from '../src/provider/provider-pool.js';
import { clientSummary } from '../src/provider/client-summary.js';
import type { AppVisit, Outcome } from '../src/sign-in/attempt.js';
import type { TenantService } from '../src/tenants/tenant-service.js';
import { useBrandTenant } from './brand-tenant.js';

const BROWSER_COOKIE = 'portcullis_browser';
const BROWSER_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const HANDOFF_COOKIE = 'portcullis_handoff';

interface VisitContext {
  visit: AppVisit;
  pooled: PooledProvider;
  /** To brand a page with the tenant its link's record names (`brandTenantId` of the outcome). */
  tenants?: Pick<TenantService, 'find'>;
  /** Set by `linkCsrf`: the token the page's form must send back. */
  csrf?: string;
}

const visitOf = (ctx: Context) => ctx.state.visit as VisitContext;
const appPath = (pooled: PooledProvider) => `/apps/${pooled.app.slug}`;

/**
 * Step 1 of every link page: the app and its provider. With `tenants`, a page the core answers with a
 * `brandTenantId` wears that tenant's brand.
 */
export function loadVisit(pool: ProviderPool, tenants?: Pick<TenantService, 'find'>) {
  return async function visitFromRequest(ctx: Context, next: Next) {
    const pooled = await pool.get((ctx.params as { slug: string }).slug);
    if (!pooled) throw new NotFoundError('There is nothing at this address.');
    const visit: AppVisit = {
      app: pooled.app,
      issuer: pooled.provider.issuer,
      ip: ctx.state.ip as string | undefined,
      findClient: async (clientId) => {
        const client = await pooled.provider.Client.find(clientId).catch(() => undefined);
        return client ? clientSummary(client) : undefined;
      },
    };
    ctx.state.visit = { visit, pooled, tenants } satisfies VisitContext;
    await next();
  };
}

/** This browser's random id for the app (created when a page with a form is shown). */
function browserId(ctx: Context, pooled: PooledProvider, create: boolean): string | undefined {
  const current = ctx.cookies.get(BROWSER_COOKIE, { signed: false });
  if (current && BROWSER_PATTERN.test(current)) return current;
  if (!create) return undefined;
  const fresh = randomId(16);
  ctx.cookies.set(BROWSER_COOKIE, fresh, { path: appPath(pooled), httpOnly: true, sameSite: 'lax', overwrite: true, signed: false });
  return fresh;
}

/**
 * The CSRF step of a link page, for the link in the path (`:token`): on GET it makes the token the page embeds, on
 * POST it checks the one the form sent. `bindToBrowser` for forms that sign the browser in.
 */
export function linkCsrf(purpose: string, options: { bindToBrowser: boolean }) {
  return async function checkLinkCsrf(ctx: Context, next: Next) {
    const state = visitOf(ctx);
    const token = String((ctx.params as { token: string }).token);
    const browser = options.bindToBrowser ? browserId(ctx, state.pooled, ctx.method === 'GET') : '';
    const secret = String((state.pooled.provider.keys as string[] | undefined)?.[0] ?? '');
    const expected = hmac(secret, `csrf:${purpose}:${sha256(token)}${browser ? `:${browser}` : ''}`);
    if (ctx.method !== 'GET') {
      const sent = formOf(ctx).raw._csrf;
      if ((options.bindToBrowser && !browser) || !sent || !safeEqual(sent, expected)) {
        throw new ForbiddenError('The form has expired or did not come from this site. Reload the page and try again.');
      }
    }
    state.csrf = expected;
    await next();
  };
}

type Handler<T> = (visit: AppVisit, input: T, ctx: Context) => Promise<Outcome> | Outcome;

/** The last step of a link page: one call into the core, its outcome answered. */
export function runVisit<T>(handler: Handler<T>) {
  return async function callCore(ctx: Context) {
    const { visit } = visitOf(ctx);
    const input = ctx.state.form ? formOf<T>(ctx).input : undefined;
    await respondVisit(ctx, await handler(visit, input as T, ctx));
  };
}

async function respondVisit(ctx: Context, outcome: Outcome): Promise<void> {
  const { visit, pooled, csrf, tenants } = visitOf(ctx);
  switch (outcome.kind) {
    case 'page':
      if (tenants) await useBrandTenant(ctx, tenants, visit.app, outcome.brandTenantId);
      return renderPage(ctx, outcome.view, { app: visit.app, appPath: appPath(pooled), csrf, ...outcome.locals }, outcome);
    case 'redirect':
      ctx.status = 303;
      return ctx.redirect(outcome.to);
    case 'handoff': {
      // A browser signed in as somebody else: that session ends here, so the person who just proved who they are is
      // the one signed in (the provider would otherwise answer the relying party with the other account).
      if (!outcome.askFirst) {
        const session = await pooled.provider.Session.get(ctx as never);
        if (session.accountId && !outcome.accountIds.includes(session.accountId)) await session.destroy();
      }
      // `signed: false`: the value is an unguessable token, and the server may run with Koa keys (the demo).
      ctx.cookies.set(HANDOFF_COOKIE, outcome.token, {
        path: appPath(pooled), httpOnly: true, sameSite: 'lax', maxAge: outcome.ttlSeconds * 1000, overwrite: true, signed: false,
      });
      ctx.status = 303;
      return ctx.redirect(outcome.to);
    }
    default:
      throw new Error(`"${outcome.kind}" happens only inside an attempt`);
  }
}

/** Reads and clears this browser's hand-off token (a hand-off is used once, whatever becomes of it). */
export function takeHandoffToken(ctx: Context, slug: string): string | undefined {
  const token = ctx.cookies.get(HANDOFF_COOKIE, { signed: false });
  if (token) ctx.cookies.set(HANDOFF_COOKIE, null, { path: `/apps/${slug}`, httpOnly: true, sameSite: 'lax', overwrite: true, signed: false });
  return token;
}
