import type { Context } from 'koa';

/** The caller's address: the first X-Forwarded-For hop only when TRUST_PROXY says a proxy sets it. */
export function clientIp(ctx: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = ctx.get('x-forwarded-for').split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return ctx.req.socket.remoteAddress ?? 'unknown';
}
