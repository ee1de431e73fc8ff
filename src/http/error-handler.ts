import type { Context, Next } from 'koa';
import type { Logger } from '../log.js';
import { PortcullisError, ServiceUnavailableError, TooManyRequestsError } from '../errors.js';
import { renderPage } from './render-page.js';
import { errorPage } from './error-page.js';

/** The JSON APIs below an app (`/apps/{slug}/api/…`: the account API). */
const APP_API = /^\/apps\/[^/]+\/api\//;

/** Whether the caller wants JSON (API clients) rather than a page (browsers). */
export function wantsJson(ctx: Context): boolean {
  return ctx.path.startsWith('/admin/') || APP_API.test(ctx.path) || ctx.accepts('html', 'json') === 'json' || !ctx.accepts('html');
}

/**
 * The one place errors become responses: JSON `{error, error_description, fields?}` for APIs, the friendly error
 * page for browsers. Unexpected errors are logged and shown as a generic server_error without details.
 * The main server runs the same two steps inside its request frame (`request-frame.ts`); this middleware form
 * serves the separate metrics listener.
 */
export function errorHandler(log: Logger, onUnavailable: (dependency: string) => void = () => undefined) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      refuseUnanswered(ctx);
    } catch (thrown) {
      answerError(ctx, thrown, log, onUnavailable);
    }
  };
}

/** A request nothing answered: 404, or 405 as the routers' allowedMethods set it (the Allow header stays). */
export function refuseUnanswered(ctx: Context): void {
  if (ctx.body !== undefined || ctx.respond === false) return;
  if (ctx.status === 404) throw new PortcullisError(404, 'not_found', 'There is nothing at this address.');
  // Set without a body by the routers' allowedMethods: same shape as every other error.
  if (ctx.status === 405) throw new PortcullisError(405, 'method_not_allowed', `${ctx.method} is not allowed at this address.`);
}

/** Answers a thrown error (unless a response is already under way), logging what was not expected. */
export function answerError(ctx: Context, thrown: unknown, log: Logger, onUnavailable: (dependency: string) => void): void {
  const err = thrown instanceof PortcullisError ? thrown : undefined;
  if (!err) log.error({ err: thrown, path: ctx.path, method: ctx.method }, 'unhandled error');
  else if (err.status >= 500) log.warn({ err: err.cause ?? err, path: ctx.path, code: err.error }, 'request failed');
  if (err instanceof ServiceUnavailableError) onUnavailable(err.dependency);
  if (ctx.headerSent || !ctx.writable) return;
  const status = err?.status ?? 500;
  const body = err?.toJSON() ?? { error: 'server_error', error_description: 'An unexpected error occurred.' };
  const retryAfter = err instanceof TooManyRequestsError ? err.retryAfterSeconds : undefined;
  if (wantsJson(ctx)) {
    ctx.status = status;
    if (retryAfter !== undefined) ctx.set('Retry-After', String(retryAfter));
    ctx.body = body;
    return;
  }
  renderPage(ctx, 'error', { ...errorPage(ctx, status, String(body.error), body.error_description) }, { status, retryAfter });
}
