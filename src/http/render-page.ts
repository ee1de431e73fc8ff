import type { Context } from 'koa';
import { renderView } from './views.js';
import { setPageCsp } from './security-headers.js';
import { catalogue, type HtmlTranslator } from '../i18n/catalogue.js';
import { chooseLanguage } from '../i18n/choose-language.js';
import { translate } from '../i18n/text.js';
import { switcherLinks, type LanguageLink } from '../i18n/language-switch.js';
import { resolveBrand, type Brand } from '../branding/brand.js';

export interface PageOptions {
  status?: number;
  /** Origins a form on the page may end up redirecting to (browsers apply CSP form-action to those redirects). */
  formTargets?: string[];
  /** With 429 or 503: `Retry-After` in seconds (RFC 6585 §4, RFC 9110 §10.2.3). */
  retryAfter?: number;
  /** CSP hash sources of inline scripts the page carries. */
  scripts?: string[];
  /** Origins of https images the page shows besides the brand's (the launcher's client logos), for `img-src`. */
  images?: string[];
  /** The layout view around the page (default `layout`; the admin console has its own). */
  layout?: string;
}

/** Locals that may hold a {@link import('../i18n/text.js').Text} (a catalogue key), translated before the view runs. */
const TEXT_LOCALS = ['title', 'heading', 'error', 'notice', 'description'] as const;

/**
 * The one way an HTML page is answered: strict CSP (no script, own stylesheet, form-action limited to the page's
 * targets), no caching, and the view inside the layout. Every local a view may test for has a defined value.
 */
export function renderPage(ctx: Pick<Context, 'set' | 'status' | 'type' | 'body' | 'state' | 'get'>, view: string, locals: Record<string, unknown>, options: PageOptions = {}): void {
  const brand = pageBrand(ctx, locals.app);
  setPageCsp(ctx as Context, options.formTargets ?? [], options.scripts ?? [], { styles: brand?.cssHash ? [brand.cssHash] : [], images: [...(brand?.imageOrigins ?? []), ...(options.images ?? [])] });
  if (options.retryAfter !== undefined) ctx.set('Retry-After', String(Math.max(1, Math.ceil(options.retryAfter))));
  ctx.status = options.status ?? 200;
  ctx.type = 'html';
  ctx.body = renderView(view, { ...pageLocals(ctx, locals), brand }, options.layout);
}

/**
 * The brand of the page's app, with the override of the tenant the route found (`ctx.state.brandTenant`: the
 * request's `tenant=` or the chosen organisation). Pages without an app have none (the stylesheet's defaults).
 */
function pageBrand(ctx: Pick<Context, 'state'>, app: unknown): Brand | undefined {
  if (!app || typeof app !== 'object' || typeof (app as { slug?: unknown }).slug !== 'string') return undefined;
  return resolveBrand(app as Parameters<typeof resolveBrand>[0], ctx.state?.brandTenant as Parameters<typeof resolveBrand>[1]);
}

/** The view's locals: defaults, the route's locals with their texts translated, and the language locals. */
export function pageLocals(ctx: Pick<Context, 'state' | 'get'>, locals: Record<string, unknown>): Record<string, unknown> {
  const language = languageLocals(ctx, locals.app, locals.basePath);
  const translated = { ...locals };
  for (const name of TEXT_LOCALS) if (name in translated) translated[name] = translate(language.t, translated[name]);
  return { app: undefined, client: undefined, csrf: undefined, error: undefined, notice: undefined, brand: undefined, ...translated, ...language };
}

type Translator = ReturnType<ReturnType<typeof catalogue>['translator']>;

/**
 * `lang`, `t`, `th` (for catalogue entries holding markup; values escaped) and the language switcher's links for a
 * view (also used where a page is written without Koa's response, e.g. the request deadline).
 */
export function languageLocals(ctx: Pick<Context, 'state' | 'get'>, app: unknown, basePath?: unknown): { lang: string; t: Translator; th: HtmlTranslator; languages: LanguageLink[] } {
  const settings = (app as { settings?: { locale?: string; force_locale?: boolean } } | undefined)?.settings;
  const lang = pageLanguage(ctx, settings);
  const t = catalogue().translator(lang);
  const th = catalogue().htmlTranslator(lang);
  const languages = settings?.force_locale ? [] : switcherLinks(ctx, lang, typeof basePath === 'string' ? basePath : undefined);
  return { lang, t, th, languages };
}

/**
 * The page's language: what the route settled (`ctx.state.language`, e.g. from the interaction's `ui_locales` and
 * the account's locale), else the switcher's choice, the browser's Accept-Language, the app's default.
 */
function pageLanguage(ctx: Pick<Context, 'state' | 'get'>, settings: { locale?: string; force_locale?: boolean } | undefined): string {
  const settled = ctx.state?.language;
  if (typeof settled === 'string') return settled;
  return chooseLanguage(catalogue().languages, {
    chosen: ctx.state?.chosenLanguage as string | undefined,
    acceptLanguage: ctx.get?.('accept-language'),
    appDefault: settings?.locale,
    forceAppDefault: settings?.force_locale,
  });
}
