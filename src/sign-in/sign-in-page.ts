/** The identify stage: the sign-in page, offering the app's methods for the identifier the person types. */
import { page, type Attempt, type Flash, type Outcome } from './attempt.js';
import { text } from '../i18n/text.js';

export function signInPage(attempt: Attempt, flash: Flash | undefined, status?: number): Outcome {
  return page('login', {
    title: text('sign-in:login.title', { app: attempt.app.name }),
    identifier: flash?.identifier ?? attempt.request.loginHint ?? '',
    methods: attempt.app.settings.login_methods,
    registrationOpen: attempt.app.settings.registration === 'open',
    error: flash?.error,
  }, status);
}

/** A friendly page that answers 429 with `Retry-After` (RFC 6585 §4). */
export function tooMany(outcome: Outcome, retryAfterSeconds: number): Outcome {
  return outcome.kind === 'page' ? { ...outcome, status: 429, retryAfter: retryAfterSeconds } : outcome;
}
