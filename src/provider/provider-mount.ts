import type { Context, Next } from 'koa';
import { NotFoundError } from '../errors.js';
import { readForm } from '../http/body.js';
import type { PooledProvider, ProviderPool } from './provider-pool.js';

/** `/apps/{slug}` + rest: slugs are lower-case letters, digits and dashes (validated by the Admin API). */
const APP_PATH = /^\/apps\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\/.*)?$/;

/**
 * Hands `/apps/{slug}/…` to that app's provider, as when an oidc-provider is mounted under a path: the provider
 * sees the path below the prefix and `originalUrl` tells it the mount point. Mounted behind the app side's
 * stores check (src/app.ts), which refuses requests with 503 up front while a store is down, so a sign-in never
 * half-happens.
 */
export function providerMount(pool: ProviderPool) {
  return (ctx: Context, next: Next): Promise<void> => {
    const match = APP_PATH.exec(ctx.path);
    if (!match) return next();
    const [, slug, rest] = match;
    // A live provider is handed the request at once (no await of its own): this runs on every token request.
    const live = pool.fresh(slug);
    if (live) return handOver(ctx, live, slug, rest);
    return pool.get(slug).then((pooled) => {
      if (!pooled) throw new NotFoundError(`No app "${slug}".`);
      return handOver(ctx, pooled, slug, rest);
    });
  };
}

function handOver(ctx: Context, pooled: PooledProvider, slug: string, rest: string | undefined): Promise<void> {
  if (ctx.method === 'POST' && POST_AS_GET.has(rest ?? '')) return redirectPostToGet(ctx, slug, rest!);
  const query = ctx.querystring ? `?${ctx.querystring}` : '';
  (ctx.req as { originalUrl?: string }).originalUrl = ctx.req.url;
  ctx.req.url = (rest ?? '/') + query;
  ctx.respond = false;
  return pooled.handle(ctx.req, ctx.res);
}

/**
 * Endpoints that must accept POST as well as GET: authorization (OIDC Core §3.1.2.1) and end-session (OIDC
 * RP-Initiated Logout 1.0 §2). oidc-provider serves POST there only with `enableHttpPostMethods`, which requires
 * `SameSite=None` session cookies (a cross-site form POST does not carry `Lax` cookies). Instead, the form's
 * parameters are answered with a 303 to the same endpoint as a GET: the browser follows it as a top-level
 * navigation, which carries the `Lax` session cookie, and the provider sees the ordinary GET request.
 */
const POST_AS_GET = new Set(['/auth', '/session/end']);

async function redirectPostToGet(ctx: Context, slug: string, endpoint: string): Promise<void> {
  const params = new URLSearchParams(ctx.querystring);
  for (const [key, value] of Object.entries(await readForm(ctx))) params.append(key, value);
  ctx.status = 303;
  ctx.set('Cache-Control', 'no-store');
  ctx.redirect(`/apps/${slug}${endpoint}?${params}`);
}

/**
 * Makes Host and X-Forwarded-Proto say what PUBLIC_URL says before anything reads them: URLs the provider builds and
 * the cookies' Secure flag then follow configuration, never a caller-chosen Host header.
 */
export function canonicalHost(publicUrl: URL) {
  const proto = publicUrl.protocol.replace(':', '');
  return (ctx: Context, next: Next) => {
    const { headers } = ctx.req;
    headers.host = publicUrl.host;
    headers['x-forwarded-proto'] = proto;
    // `delete` turns the headers object into a slow dictionary for every later header read of this request (the
    // provider reads a dozen): only when there is something to remove.
    if (headers['x-forwarded-host'] !== undefined) delete headers['x-forwarded-host'];
    return next();
  };
}
