/**
 * An overall deadline for every request, so that no request can wait on a store (or anything else) forever.
 *
 * Two ways a request used to hang when Redis died mid-request:
 * - A handler hands the response to oidc-provider (`ctx.respond = false`, e.g. `interactionFinished`) and the
 *   provider's store write then fails. Koa sends nothing for a response it was told not to manage, so the error
 *   handler's 503 never left the process and the socket stayed open until the client gave up. When the error
 *   passes through here and nothing has been written yet, the response is given back to Koa, so the error
 *   handler's answer (503 `temporarily_unavailable`) is sent.
 * - Anything that never settles at all. After `timeoutMs` the request is answered 503 `temporarily_unavailable`
 *   (RFC 6749 §4.1.2.1 / §5.2 error shape, the page for browsers) and whatever the handler does later is ignored.
 *
 * Mount it inside the error handler (so thrown errors reach that handler after passing here) and before the routes.
 */
import type { Context, Next } from 'koa';
import type { Logger } from '../log.js';
import { ServiceUnavailableError } from '../errors.js';
import { wantsJson } from './error-handler.js';
import { setPageCsp } from './security-headers.js';
import { renderView } from './views.js';
import { pageLocals } from './render-page.js';
import { errorPage } from './error-page.js';

/** Seconds a client is told to wait before retrying (RFC 9110 §10.2.3). */
const RETRY_AFTER_SECONDS = 5;

export function requestDeadline(timeoutMs: number, log: Pick<Logger, 'warn'>) {
  return async (ctx: Context, next: Next) => {
    const timer = setTimeout(() => answerAfterDeadline(ctx, timeoutMs, log), timeoutMs);
    try {
      await next();
    } catch (err) {
      // A handler that took the response over and then failed before writing: let Koa answer with the error.
      if (ctx.respond === false && !ctx.res.headersSent && !ctx.res.writableEnded) ctx.respond = true;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Writes the 503 directly (Koa may have been told not to respond) and detaches Koa from this response. */
function answerAfterDeadline(ctx: Context, timeoutMs: number, log: Pick<Logger, 'warn'>): void {
  const { res } = ctx;
  if (res.writableEnded || res.destroyed) return;
  log.warn({ path: ctx.path, method: ctx.method, timeoutMs }, 'request deadline exceeded; answered 503');
  ctx.respond = false;
  if (res.headersSent) {
    // Half a response cannot be completed honestly: close the connection so the client sees an error at once.
    res.destroy();
    return;
  }
  const error = new ServiceUnavailableError('request deadline');
  const json = wantsJson(ctx);
  let body: string;
  if (json) {
    body = JSON.stringify(error.toJSON());
    ctx.set('Content-Type', 'application/json; charset=utf-8');
  } else {
    setPageCsp(ctx);
    body = renderView('error', pageLocals(ctx, { ...errorPage(ctx, error.status, error.error, error.error_description) }));
    ctx.set('Content-Type', 'text/html; charset=utf-8');
  }
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  ctx.set('Cache-Control', 'no-store');
  // The handler is still running and may try to write later; this connection is not reused for another request.
  ctx.set('Connection', 'close');
  res.statusCode = error.status;
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
