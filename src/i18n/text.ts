/**
 * Text that the code hands to a page (a title, an error, a notice) without knowing the page's language: a
 * catalogue key (`namespace:key`), optionally with values to interpolate. The page translates it when it renders
 * (`renderPage`), so the sign-in core never picks a language and a flash saved in one request shows in the language
 * of the next. A plain string that is not key-shaped passes through unchanged (names, and text a route already
 * translated).
 */
import type { TFunction } from 'i18next';

export type Text = string | { key: string; values?: Record<string, string | number> };

/** `namespace:key.path`: what tells a key from ordinary text (which may contain a colon). */
const KEY_SHAPE = /^[a-z][a-z0-9-]*:[a-z0-9_]+(\.[a-z0-9_]+)*$/;

/** A key with values: `text('sign-in:error.wait', { seconds: 30 })`. */
export function text(key: string, values?: Record<string, string | number>): Text {
  return values ? { key, values } : key;
}

export function isKey(value: unknown): value is string {
  return typeof value === 'string' && KEY_SHAPE.test(value);
}

/** The text in the page's language; anything that is not a {@link Text} is returned as it was. */
export function translate(t: TFunction, value: unknown): unknown {
  if (isKey(value)) return t(value);
  if (typeof value === 'object' && value !== null && isKey((value as { key?: unknown }).key)) {
    const { key, values } = value as { key: string; values?: Record<string, unknown> };
    return values ? t(key, { ...values }) : t(key);
  }
  return value;
}
