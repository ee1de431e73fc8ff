/**
 * The one asynchronous layer around every request of the main server: strict headers before, then the handler,
 * then errors answered (`error-handler.ts`), the deadline released (`request-deadline.ts`), the page policy
 * completed (`security-headers.ts`) and the request counted (metrics).
 *
 * These were four middlewares, each awaiting the rest of the chain. Every `async` layer costs each request its own
 * promise, an extra microtask on the way back out and (with the async hooks oidc-provider's context needs) a promise
 * hook call: on the token endpoint, a measurable share of the CPU. One frame runs the same steps in the same order.
 */
import type { Context, Next } from 'koa';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { answerError, refuseUnanswered } from './error-handler.js';
import { requestDeadline } from './request-deadline.js';
import { securityHeaders } from './security-headers.js';

export interface RequestFrameOptions {
  publicUrl: URL;
  /** REQUEST_TIMEOUT_MS: every request is answered by then (503 `temporarily_unavailable` otherwise). */
  timeoutMs: number;
  log: Logger;
  metrics: Pick<Metrics, 'observeRequest' | 'observeStoreError'>;
}

export function requestFrame({ publicUrl, timeoutMs, log, metrics }: RequestFrameOptions) {
  const headers = securityHeaders(publicUrl);
  const onUnavailable = (dependency: string) => metrics.observeStoreError(dependency);
  // A request the deadline answered is counted then (its handler may never finish), as a 503 of `request deadline`.
  const deadline = requestDeadline(timeoutMs, log, (ctx, status) => {
    onUnavailable('request deadline');
    metrics.observeRequest(ctx.originalUrl.split('?')[0], ctx.method, status, timeoutMs / 1000);
  });
  return async function frame(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    // Classified by the path the client asked for: the provider mount rewrites ctx.path for oidc-provider.
    const path = ctx.path;
    headers.baseline(ctx);
    const request = deadline.track(ctx);
    try {
      await next();
      refuseUnanswered(ctx);
    } catch (thrown) {
      deadline.failed(ctx);
      answerError(ctx, thrown, log, onUnavailable);
    } finally {
      deadline.done(request);
      headers.finish(ctx);
      if (!request.expired) metrics.observeRequest(path, ctx.method, ctx.status, (performance.now() - started) / 1000);
    }
  };
}
