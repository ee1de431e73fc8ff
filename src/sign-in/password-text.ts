/**
 * The password rule's refusals (`accounts/password-policy.ts`, English for the Admin API) as catalogue texts for the
 * sign-in pages, in the page's language.
 */
import { PASSWORD_MESSAGES, PASSWORD_MIN, PASSWORD_MAX, passwordProblem, type PasswordContext } from '../accounts/password-policy.js';
import { text, type Text } from '../i18n/text.js';

const KEYS: Record<keyof typeof PASSWORD_MESSAGES, Text> = {
  tooShort: text('sign-in:password.too_short', { count: PASSWORD_MIN }),
  tooLong: text('sign-in:password.too_long', { count: PASSWORD_MAX }),
  common: 'sign-in:password.common',
  contextual: 'sign-in:password.contextual',
  mismatch: 'sign-in:password.mismatch',
};

/** The page text for one of {@link PASSWORD_MESSAGES}. */
export function passwordText(name: keyof typeof PASSWORD_MESSAGES): Text {
  return KEYS[name];
}

/** Why a new password is refused, as a page text; undefined when it is acceptable. */
export function passwordProblemText(password: string, context: PasswordContext = {}): Text | undefined {
  const problem = passwordProblem(password, context);
  if (!problem) return undefined;
  const name = (Object.keys(PASSWORD_MESSAGES) as (keyof typeof PASSWORD_MESSAGES)[]).find((k) => PASSWORD_MESSAGES[k] === problem);
  return name ? KEYS[name] : problem;
}
