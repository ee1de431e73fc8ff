/**
 * Pages reached from a link in an email (invitation, sign-in link opened on another device, password reset): they
 * belong to an app but to no interaction, so the CSRF token is bound to the link's token instead of an interaction
 * uid (OWASP ASVS V4.2.2).
 *
 * Forms that sign the browser in also bind it to this browser (`browserLinkCsrf`): bound to the link alone, anyone
 * holding a link could read the token off the page and make someone else's browser post the form (login CSRF: the
 * victim ends up signed in to the attacker's account). The per-browser cookie is SameSite=Lax, so a cross-site
 * post never carries it (double-submit cookie).
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { hmac, randomId, safeEqual, sha256 } from '../src/crypto/random.js';
import { ForbiddenError, NotFoundError } from '../src/http/errors.js';
import { renderView } from '../src/http/views.js';
import { setPageCsp } from '../src/http/security-headers.js';
import type { PooledProvider, ProviderPool } from '../src/provider/provider-pool.js';

/** Link tokens are `randomId(32)`: 32 random bytes in base64url. Anything else is refused before any lookup. */
export const LINK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export async function loadApp(ctx: Context, pool: ProviderPool): Promise<PooledProvider> {
  const pooled = await pool.get((ctx.params as { slug: string }).slug);
  if (!pooled) throw new NotFoundError('There is nothing at this address.');
  return pooled;
}

const BROWSER_COOKIE = 'portcullis_browser';
const BROWSER_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** This browser's random id for the app (set when a page with a form is shown). */
function browserId(ctx: Context, pooled: PooledProvider, create: true): string;
function browserId(ctx: Context, pooled: PooledProvider, create: false): string | undefined;
function browserId(ctx: Context, pooled: PooledProvider, create: boolean): string | undefined {
  const current = ctx.cookies.get(BROWSER_COOKIE, { signed: false });
  if (current && BROWSER_PATTERN.test(current)) return current;
  if (!create) return undefined;
  const fresh = randomId(16);
  ctx.cookies.set(BROWSER_COOKIE, fresh, { path: `/apps/${pooled.app.slug}`, httpOnly: true, sameSite: 'lax', overwrite: true, signed: false });
  return fresh;
}

const csrfFor = (provider: Provider, purpose: string, token: string, browser = '') =>
  hmac(String((provider.keys as string[] | undefined)?.[0] ?? ''), `csrf:${purpose}:${sha256(token)}${browser ? `:${browser}` : ''}`);

const refuse = () => new ForbiddenError('The form has expired or did not come from this site. Reload the page and try again.');

/** CSRF token bound to one emailed link, signed with the app's cookie key. */
export function linkCsrf(provider: Provider, purpose: string, token: string): string {
  return csrfFor(provider, purpose, token);
}

export function assertLinkCsrf(provider: Provider, purpose: string, token: string, form: Record<string, string>): void {
  if (!form._csrf || !safeEqual(form._csrf, linkCsrf(provider, purpose, token))) throw refuse();
}

/** CSRF token bound to one emailed link and to this browser (for forms that sign the browser in). */
export function browserLinkCsrf(ctx: Context, pooled: PooledProvider, purpose: string, token: string): string {
  return csrfFor(pooled.provider, purpose, token, browserId(ctx, pooled, true));
}

export function assertBrowserLinkCsrf(ctx: Context, pooled: PooledProvider, purpose: string, token: string, form: Record<string, string>): void {
  const browser = browserId(ctx, pooled, false);
  if (!browser || !form._csrf || !safeEqual(form._csrf, csrfFor(pooled.provider, purpose, token, browser))) throw refuse();
}

/**
 * Renders a page of the app: no caching, and a CSP whose `form-action` also allows the origin the form's answer
 * redirects to (browsers apply `form-action` to those redirects).
 */
export function renderAppPage(ctx: Context, pooled: PooledProvider, view: string, locals: Record<string, unknown>, options: { status?: number; formTargets?: string[] } = {}): void {
  setPageCsp(ctx, options.formTargets ?? []);
  ctx.status = options.status ?? 200;
  ctx.type = 'html';
  ctx.body = renderView(view, {
    app: pooled.app,
    client: undefined,
    csrf: undefined,
    appPath: `/apps/${pooled.app.slug}`,
    error: undefined,
    notice: undefined,
    ...locals,
  });
}
