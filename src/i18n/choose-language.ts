/**
 * Which language a page or message is in. Order: the request's `ui_locales` (OIDC Core §3.1.2.1, space-separated
 * BCP 47 tags in order of preference) first, unless the person picked another language with the switcher during
 * this very sign-in (a choice made on the page answers the person's own click, like Keycloak's `kc_locale`); then
 * a language picked earlier on this browser; the account's `locale` once the person is known; the browser's
 * `Accept-Language` (RFC 9110 §12.5.4, by q-value); the app's default. An app that pins its language
 * (`force_locale`) always gets its default. A tag matches a supported language exactly or by its primary subtag
 * (`fr-CA` → `fr`).
 */
export interface LanguagePreferences {
  /** Picked with the language switcher during this sign-in: ahead of `ui_locales`. */
  chosenNow?: string;
  /** Picked with the language switcher before (its cookie): after `ui_locales`. */
  chosen?: string;
  uiLocales?: string;
  accountLocale?: string;
  acceptLanguage?: string;
  appDefault?: string;
  forceAppDefault?: boolean;
}

export function chooseLanguage(supported: readonly string[], prefs: LanguagePreferences): string {
  const fallback = match(supported, prefs.appDefault) ?? supported[0];
  if (prefs.forceAppDefault) return fallback;
  const candidates = [
    prefs.chosenNow,
    ...(prefs.uiLocales ?? '').split(' '),
    prefs.chosen,
    prefs.accountLocale,
    ...parseAcceptLanguage(prefs.acceptLanguage),
  ];
  for (const tag of candidates) {
    const found = match(supported, tag);
    if (found) return found;
  }
  return fallback;
}

function match(supported: readonly string[], tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  const lower = tag.trim().toLowerCase();
  if (!lower || lower.length > 35) return undefined;
  return supported.find((l) => l.toLowerCase() === lower) ?? supported.find((l) => l.toLowerCase() === lower.split('-')[0]);
}

/** `fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5` → tags by descending q (stable), without `*` and q=0. Bounded input. */
export function parseAcceptLanguage(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .slice(0, 512)
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((e) => e.tag && e.tag !== '*' && e.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .map((e) => e.tag);
}
