/**
 * `GET /metrics` in the Prometheus text format (requests are counted by the request frame,
 * `src/http/request-frame.ts`). With METRICS_TOKEN set, the scrape needs `Authorization: Bearer <token>` (compared
 * in constant time); with METRICS_PORT set, the metrics are served only on that port (see `src/main.ts`).
 */
import Koa, { type Context, type Next } from 'koa';
import type { Logger } from '../log.js';
import { errorHandler } from '../http/error-handler.js';
import { safeEqual, sha256 } from '../crypto/random.js';
import { UnauthorizedError } from '../errors.js';
import type { Metrics } from './metrics.js';

/** The scrape handler (Koa middleware answering `/metrics` only). */
export function metricsEndpoint(metrics: Metrics, token: string | undefined) {
  const expected = token ? sha256(token) : undefined;
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== '/metrics' || ctx.method !== 'GET') return next();
    if (expected) {
      const [scheme, presented] = (ctx.get('authorization') || '').split(' ');
      if (scheme?.toLowerCase() !== 'bearer' || !presented || !safeEqual(sha256(presented), expected)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="portcullis-metrics"');
        throw new UnauthorizedError('A valid metrics token is required (Authorization: Bearer <METRICS_TOKEN>).');
      }
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.text();
  };
}

/** The separate metrics listener (METRICS_PORT): nothing but `/metrics` is served there. */
export function metricsApp(metrics: Metrics, token: string | undefined, log: Logger): Koa {
  const koa = new Koa();
  koa.use(errorHandler(log));
  koa.use(metricsEndpoint(metrics, token));
  return koa;
}
