import type { Context } from 'koa';
import { renderView } from './views.js';
import { setPageCsp } from './security-headers.js';

export interface PageOptions {
  status?: number;
  /** Origins a form on the page may end up redirecting to (browsers apply CSP form-action to those redirects). */
  formTargets?: string[];
  /** With 429 or 503: `Retry-After` in seconds (RFC 6585 §4, RFC 9110 §10.2.3). */
  retryAfter?: number;
  /** CSP hash sources of inline scripts the page carries. */
  scripts?: string[];
}

/**
 * The one way an HTML page is answered: strict CSP (no script, own stylesheet, form-action limited to the page's
 * targets), no caching, and the view inside the layout. Every local a view may test for has a defined value.
 */
export function renderPage(ctx: Pick<Context, 'set' | 'status' | 'type' | 'body'>, view: string, locals: Record<string, unknown>, options: PageOptions = {}): void {
  setPageCsp(ctx as Context, options.formTargets ?? [], options.scripts ?? []);
  if (options.retryAfter !== undefined) ctx.set('Retry-After', String(Math.max(1, Math.ceil(options.retryAfter))));
  ctx.status = options.status ?? 200;
  ctx.type = 'html';
  ctx.body = renderView(view, { app: undefined, client: undefined, csrf: undefined, error: undefined, notice: undefined, ...locals });
}
