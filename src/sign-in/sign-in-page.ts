/** The identify stage: the sign-in page, offering the app's methods for the identifier the person types. */
import { page, type Attempt, type Flash, type Outcome } from './attempt.js';
import { text } from '../i18n/text.js';

/** The refusal of a wrong email or password (methods/password.ts `INVALID_CREDENTIALS`). */
const WRONG_PASSWORD = 'sign-in:error.invalid_credentials';

export function signInPage(attempt: Attempt, flash: Flash | undefined, status?: number): Outcome {
  return page('login', {
    title: text('sign-in:login.title', { app: attempt.app.name }),
    identifier: flash?.identifier ?? attempt.request.loginHint ?? '',
    methods: attempt.app.settings.login_methods,
    registrationOpen: attempt.app.settings.registration === 'open',
    error: flash?.error,
    // After a wrong password the email is kept: the person retypes the password, so the focus goes there.
    focusPassword: flash?.error === WRONG_PASSWORD && !!flash.identifier && attempt.app.settings.login_methods.includes('password'),
  }, status);
}

/** A friendly page that answers 429 with `Retry-After` (RFC 6585 §4). */
export function tooMany(outcome: Outcome, retryAfterSeconds: number): Outcome {
  return outcome.kind === 'page' ? { ...outcome, status: 429, retryAfter: retryAfterSeconds } : outcome;
}
