/**
 * The language switcher every page shows: plain links (`?lang=fr`) that work without script under the pages'
 * strict CSP. Following one stores the choice in a cookie and answers 303 to the same address without `lang`, so
 * the choice lasts for the rest of the visit (every app of this server: it is the person's preference, not an
 * app's) and the parameter never reaches the provider or a form. The cookie also holds when the choice was made
 * (`fr.1764748800`): a sign-in started after it puts the relying party's `ui_locales` first, a choice made during
 * the sign-in goes ahead of them (`choose-language.ts`).
 */
import type { Context, Next } from 'koa';
import { catalogue } from './catalogue.js';

export const LANGUAGE_COOKIE = 'portcullis_lang';
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

export interface LanguageLink {
  code: string;
  /** The language's own name (`Français`), from its own catalogue. */
  name: string;
  href: string;
  current: boolean;
}

/** Koa middleware: applies `?lang=` on a GET and reads the cookie into `ctx.state.chosenLanguage`. */
export function languageSwitch() {
  return function switchLanguage(ctx: Context, next: Next) {
    const { languages } = catalogue();
    // The Admin API is not a page: its `lang` parameters (if any) are its own.
    if (ctx.path.startsWith('/admin/')) return next();
    const asked = ctx.method === 'GET' ? ctx.query.lang : undefined;
    if (typeof asked === 'string') {
      if (languages.includes(asked)) {
        ctx.cookies.set(LANGUAGE_COOKIE, `${asked}.${Math.floor(Date.now() / 1000)}`, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: ONE_YEAR_MS, secure: ctx.secure, overwrite: true });
      }
      const url = new URL(ctx.href);
      url.searchParams.delete('lang');
      ctx.status = 303;
      // One leading slash: `//evil.test/x?lang=fr` must not become a protocol-relative redirect to another site.
      ctx.redirect(`/${url.pathname.replace(/^[/\\]+/, '')}${url.search}`);
      return;
    }
    // Most requests (token, discovery, JWKS) carry no language cookie: no cookie parsing for them.
    const [chosen, at] = (ctx.req.headers.cookie?.includes(LANGUAGE_COOKIE) ? (ctx.cookies.get(LANGUAGE_COOKIE) ?? '') : '').split('.');
    if (chosen && languages.includes(chosen)) {
      ctx.state.chosenLanguage = chosen;
      // Seconds since the epoch; a cookie without a time (set before times were kept) counts as an earlier choice.
      if (at && /^\d{1,12}$/.test(at)) ctx.state.chosenLanguageAt = Number(at);
    }
    // Where the switcher's links point: this page when it was a GET (a page shown after a POST links to the attempt's
    // page). Not an authorization response (an upstream IdP's callback): its code and state are single-use, so the
    // address cannot show the page again, and they must not be copied into links (RFC 9700 §4.2.4).
    if (ctx.method === 'GET' && ctx.query.code === undefined && ctx.query.state === undefined) ctx.state.pageAddress = ctx.path + (ctx.querystring ? `?${ctx.querystring}` : '');
    return next();
  };
}

/** The switcher's links for a page in `lang`; none when there is no address to reload. */
export function switcherLinks(ctx: Pick<Context, 'state'>, lang: string, fallbackAddress?: string): LanguageLink[] {
  const address = (ctx.state?.pageAddress as string | undefined) ?? fallbackAddress;
  if (!address) return [];
  const { languages, translator } = catalogue();
  return languages.map((code) => ({
    code,
    name: translator(code)('common:language.self'),
    href: `${address}${address.includes('?') ? '&' : '?'}lang=${encodeURIComponent(code)}`,
    current: code === lang,
  }));
}
