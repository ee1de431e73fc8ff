/** How contacts and names are written: one definition for the Admin API and the sign-in pages. */
import { z } from 'zod';

/**
 * An email address; `name@localhost` too (RFC 6761 §6.3 reserves that name for this machine), so the console's default
 * first operator `admin@localhost` can sign in on a development machine.
 */
export const emailSchema = z.email({ pattern: new RegExp(`(?:${z.regexes.email.source})|^[A-Za-z0-9._%+-]+@localhost$`) }).max(254);
/** E.164 (ITU-T): +, country code, up to 15 digits. */
export const phoneSchema = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +14155550123');

export const NAME_MAX = 100;

/**
 * Text without control characters (C0, DEL, C1: NUL among them) and without lone UTF-16 surrogates, which MongoDB's
 * BSON and UTF-8 cannot hold. A pattern rather than a refinement, so the OpenAPI document states the rule too.
 */
const CLEAN_TEXT = /^(?:[^\u0000-\u001f\u007f-\u009f\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

/** Trimmed text of 1 to `max` characters that storage can hold and a page can show as typed. */
export function cleanText(max: number) {
  return z.string().trim().min(1).max(max).regex(CLEAN_TEXT, 'must be text without control characters or unpaired surrogates');
}

/** Names typed by people on the sign-in pages. */
export const personName = cleanText(NAME_MAX);
