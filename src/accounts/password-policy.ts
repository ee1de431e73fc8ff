/**
 * The one rule for choosing a password, used by registration, password reset, invitations and the Admin API
 * (NIST SP 800-63B §3.1.1.2):
 * - 8 to 128 characters, counted as Unicode code points after NFKC (the form the hasher uses); any character, no
 *   composition rules;
 * - not a known-breached or very common password: compared with the common-passwords dictionary that ships with
 *   `@zxcvbn-ts/language-common` (about 49,000 entries, looked up locally; nothing is sent anywhere);
 * - not the person's own email address, its local part, or the app's name (context-specific words).
 */
import { z } from 'zod';
import { dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/** Looked up with lower-case NFKC text: "Password1" and "password1" are the same breached password. */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common'].map((p) => p.normalize('NFKC').toLowerCase()));

/** Words that make a password guessable for this person and this app. */
export interface PasswordContext {
  email?: string;
  appName?: string;
}

export const PASSWORD_MESSAGES = {
  tooShort: `Choose a password of at least ${PASSWORD_MIN} characters.`,
  tooLong: `Choose a password of at most ${PASSWORD_MAX} characters.`,
  common: 'This password is too common: it appears in lists of breached passwords. Choose another one.',
  contextual: 'Choose a password that is not your email address or the name of this service.',
  mismatch: 'The two passwords do not match.',
} as const;

/** Why a new password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, context: PasswordContext = {}): string | undefined {
  const normalised = password.normalize('NFKC');
  const length = [...normalised].length;
  if (length < PASSWORD_MIN) return PASSWORD_MESSAGES.tooShort;
  if (length > PASSWORD_MAX) return PASSWORD_MESSAGES.tooLong;
  const lower = normalised.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return PASSWORD_MESSAGES.common;
  const email = context.email?.toLowerCase();
  const contextual = [email, email?.split('@')[0], context.appName?.toLowerCase()].filter((w): w is string => !!w && w.length >= 4);
  if (contextual.some((word) => lower === word || lower.replace(/[^\p{L}\p{N}]/gu, '') === word.replace(/[^\p{L}\p{N}]/gu, ''))) {
    return PASSWORD_MESSAGES.contextual;
  }
  return undefined;
}

/** The rule as a zod schema, for the Admin API (which reports the message at the field). */
export const newPasswordSchema = z.string().superRefine((password, ctx) => {
  const problem = passwordProblem(password);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A password typed into a form: bounded before any work is done on it (4 bytes per code point at most). */
export const typedPasswordSchema = z.string().max(PASSWORD_MAX * 4);
