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
 * The request frame (`request-frame.ts`) runs it around every request, before the routes.
 */
import type { Context } from 'koa';
import type { Logger } from '../log.js';
import { ServiceUnavailableError } from '../errors.js';
import { wantsJson } from './error-handler.js';
import { setPageCsp } from './security-headers.js';
import { renderView } from './views.js';
import { pageLocals } from './render-page.js';
import { errorPage } from './error-page.js';

/** Seconds a client is told to wait before retrying (RFC 9110 §10.2.3). */
const RETRY_AFTER_SECONDS = 5;

/**
 * One shared sweep instead of a timer per request: every request has the same deadline, so requests expire in the
 * order they started, and a `Set` (iterated in insertion order) lets each sweep stop at the first request still in
 * time. A per-request `setTimeout`/`clearTimeout` pair was a measurable share of the token endpoint's CPU; a `Set`
 * add and delete is not. The sweep runs only while requests are in flight and never keeps the process alive.
 * Answers come within `timeoutMs` plus one sweep interval (a tenth of the deadline, 10 ms to 1 s).
 */
export class InFlightRequests {
  private readonly requests = new Set<InFlight>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly sweepEveryMs: number;

  constructor(private readonly timeoutMs: number, private readonly onExpired: (ctx: Context) => void) {
    this.sweepEveryMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 10)));
  }

  add(ctx: Context): InFlight {
    const request = { ctx, due: Date.now() + this.timeoutMs, expired: false };
    this.requests.add(request);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepEveryMs);
      this.sweeper.unref();
    }
    return request;
  }

  delete(request: InFlight): void {
    this.requests.delete(request);
  }

  private sweep(): void {
    const now = Date.now();
    for (const request of this.requests) {
      if (request.due > now) break;
      this.requests.delete(request);
      request.expired = true;
      this.onExpired(request.ctx);
    }
    if (this.requests.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}

export interface InFlight {
  readonly ctx: Context;
  readonly due: number;
  /** Answered by the deadline: whatever the handler does later is not this request's answer. */
  expired: boolean;
}

/**
 * The deadline of every request: `track` when it starts, `done` when it ends, and `failed` when a handler throws
 * (run before the error is answered). Used by the request frame (`request-frame.ts`).
 */
export function requestDeadline(timeoutMs: number, log: Pick<Logger, 'warn'>, onAnswered: (ctx: Context, status: number) => void = () => undefined) {
  const inFlight = new InFlightRequests(timeoutMs, (ctx) => {
    if (answerAfterDeadline(ctx, timeoutMs, log)) onAnswered(ctx, 503);
  });
  return {
    track: (ctx: Context): InFlight => inFlight.add(ctx),
    done: (request: InFlight): void => inFlight.delete(request),
    failed(ctx: Context): void {
      // A handler that took the response over and then failed before writing: let Koa answer with the error.
      if (ctx.respond === false && !ctx.res.headersSent && !ctx.res.writableEnded) ctx.respond = true;
    },
  };
}

/**
 * Writes the 503 directly (Koa may have been told not to respond) and detaches Koa from this response; true when
 * the 503 was sent (not when the response had already ended or had to be cut off).
 */
function answerAfterDeadline(ctx: Context, timeoutMs: number, log: Pick<Logger, 'warn'>): boolean {
  const { res } = ctx;
  if (res.writableEnded || res.destroyed) return false;
  log.warn({ path: ctx.path, method: ctx.method, timeoutMs }, 'request deadline exceeded; answered 503');
  ctx.respond = false;
  if (res.headersSent) {
    // Half a response cannot be completed honestly: close the connection so the client sees an error at once.
    res.destroy();
    return false;
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
  return true;
}
