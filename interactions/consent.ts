/** Consent for third-party clients (OIDC Core §3.1.2.4). First-party clients never reach this page. */
import { readForm } from '../src/http/body.js';
import { assertCsrf, finish, pendingOf, redirectTo, type Step } from './context.js';
import { continueSignIn, type SequenceDeps } from './sign-in-sequence.js';

export async function consent(step: Step, deps: SequenceDeps): Promise<void> {
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  const pending = pendingOf(step);
  if (!pending) return redirectTo(step, step.basePath);
  if (form.decision !== 'allow') {
    return finish(step, { error: 'access_denied', error_description: 'The person declined to share their information.' });
  }
  pending.consented = true;
  return continueSignIn(step, deps, pending, 'redirect');
}

/** "Cancel" on any page: the client receives access_denied (RFC 6749 §4.1.2.1). */
export async function abort(step: Step): Promise<void> {
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  return finish(step, { error: 'access_denied', error_description: 'The person cancelled the sign-in.' });
}
