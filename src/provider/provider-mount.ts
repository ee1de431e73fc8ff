import type { Context, Next } from 'koa';
import { NotFoundError, ServiceUnavailableError } from '../errors.js';
import type { ProviderPool } from './provider-pool.js';

/** `/apps/{slug}` + rest: slugs are lower-case letters, digits and dashes (validated by the Admin API). */
const APP_PATH = /^\/apps\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\/.*)?$/;

/**
 * Hands `/apps/{slug}/…` to that app's provider, as when an oidc-provider is mounted under a path: the provider
 * sees the path below the prefix and `originalUrl` tells it the mount point. Requests are refused with 503 up
 * front while a store the provider needs is down, so a sign-in never half-happens.
 */
export function providerMount(pool: ProviderPool, available: () => boolean) {
  return async (ctx: Context, next: Next) => {
    const match = APP_PATH.exec(ctx.path);
    if (!match) return next();
    if (!available()) throw new ServiceUnavailableError('storage');
    const pooled = await pool.get(match[1]);
    if (!pooled) throw new NotFoundError(`No app "${match[1]}".`);
    const query = ctx.querystring ? `?${ctx.querystring}` : '';
    (ctx.req as { originalUrl?: string }).originalUrl = ctx.req.url;
    ctx.req.url = (match[2] ?? '/') + query;
    ctx.respond = false;
    await pooled.handle(ctx.req, ctx.res);
  };
}

/**
 * Makes Host and X-Forwarded-Proto say what PUBLIC_URL says before anything reads them: URLs the provider builds and
 * the cookies' Secure flag then follow configuration, never a caller-chosen Host header.
 */
export function canonicalHost(publicUrl: URL) {
  const proto = publicUrl.protocol.replace(':', '');
  return async (ctx: Context, next: Next) => {
    ctx.req.headers.host = publicUrl.host;
    ctx.req.headers['x-forwarded-proto'] = proto;
    delete ctx.req.headers['x-forwarded-host'];
    await next();
  };
}
