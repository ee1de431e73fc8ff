/**
 * A refused field's message in the page's language (the console; the Admin API answers in English). Three kinds:
 * zod's own messages ("Too big: expected string to have <=100 characters") are rendered by zod's locale for the
 * language; our schemas' messages and templated ones (`no tenant "{{tenant}}"`) are keys of the `validation`
 * catalogue, keyed by their English text; a message the catalogue lacks stays in English rather than disappearing.
 */
import { z } from 'zod';
import type { TFunction } from 'i18next';
import type { FieldIssue } from '../errors.js';

type ZodLocale = { localeError: (issue: never) => string | { message: string } | undefined | null };
const LOCALES = z.locales as unknown as Record<string, (() => ZodLocale) | undefined>;
const english = LOCALES.en!();
const locales = new Map<string, ZodLocale | undefined>();

/** zod's locale for a language (`fr`, `de`, `es`, …), made once; none for a language zod does not have. */
function zodLocale(lang: string): ZodLocale | undefined {
  if (!locales.has(lang)) locales.set(lang, LOCALES[lang]?.());
  return locales.get(lang);
}

function say(locale: ZodLocale, issue: unknown): string | undefined {
  const said = locale.localeError(issue as never);
  return typeof said === 'string' ? said : said?.message;
}

export function fieldMessage(issue: FieldIssue, lang: string, t: TFunction): string {
  if (issue.zod !== undefined && say(english, issue.zod) === issue.message) {
    const locale = zodLocale(lang);
    return (locale && say(locale, issue.zod)) || issue.message;
  }
  const key = issue.template ?? issue.message;
  return t(key, { ...issue.values, ns: 'validation', keySeparator: false, nsSeparator: false, defaultValue: issue.message });
}
