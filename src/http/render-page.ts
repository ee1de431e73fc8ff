import type { Context } from 'koa';
import { renderView } from './views.js';
import { setPageCsp } from './security-headers.js';
import { catalogue } from '../i18n/catalogue.js';
import { chooseLanguage } from '../i18n/choose-language.js';

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
export function renderPage(ctx: Pick<Context, 'set' | 'status' | 'type' | 'body' | 'state' | 'get'>, view: string, locals: Record<string, unknown>, options: PageOptions = {}): void {
  setPageCsp(ctx as Context, options.formTargets ?? [], options.scripts ?? []);
  if (options.retryAfter !== undefined) ctx.set('Retry-After', String(Math.max(1, Math.ceil(options.retryAfter))));
  ctx.status = options.status ?? 200;
  ctx.type = 'html';
  ctx.body = renderView(view, { app: undefined, client: undefined, csrf: undefined, error: undefined, notice: undefined, ...locals, ...languageLocals(ctx, locals.app) });
}

/** `lang` and `t` for a view (also used where a page is written without Koa's response, e.g. the request deadline). */
export function languageLocals(ctx: Pick<Context, 'state' | 'get'>, app: unknown): { lang: string; t: ReturnType<ReturnType<typeof catalogue>['translator']> } {
  const lang = pageLanguage(ctx, app as { settings?: { locale?: string } } | undefined);
  return { lang, t: catalogue().translator(lang) };
}

/**
 * The page's language: what the route settled (`ctx.state.language`, e.g. from the interaction's `ui_locales` and
 * the account's locale), else the browser's Accept-Language, else the app's default.
 */
function pageLanguage(ctx: Pick<Context, 'state' | 'get'>, app: { settings?: { locale?: string } } | undefined): string {
  const settled = ctx.state?.language;
  if (typeof settled === 'string') return settled;
  return chooseLanguage(catalogue().languages, { acceptLanguage: ctx.get?.('accept-language'), appDefault: app?.settings?.locale });
}
