/** Password reset: "Forgot password?" inside the attempt, and the emailed link's page (any device). */
import type Router from '@koa/router';
import { form } from '../src/http/form.js';
import type { ProviderPool } from '../src/provider/provider-pool.js';
import type { SignInDeps } from '../src/sign-in/deps.js';
import type { FormInput } from '../src/sign-in/attempt.js';
import {
  completeReset, forgotForm, passwordResetMethod, forgotPage, invalidForgotForm, openReset, requestReset, resetDonePage, resetForm,
} from '../src/sign-in/methods/password-reset.js';
import { attemptCsrf, offered, run, type loadAttempt } from './attempt-web.js';
import { linkCsrf, loadVisit, runVisit } from './link-page-web.js';
import { ATTEMPT } from './paths.js';

/** The reset page may be opened on any device: its CSRF token is bound to the link alone. */
const resetCsrf = linkCsrf('reset', { bindToBrowser: false });

export function passwordResetRoutes(router: Router, attempt: ReturnType<typeof loadAttempt>, pool: ProviderPool, deps: SignInDeps): void {
  const visit = loadVisit(pool, deps.tenants);
  const withPasswords = offered(passwordResetMethod);
  router.get(`${ATTEMPT}/forgot`, attempt, withPasswords, run((a) => forgotPage(a, deps, false)));
  router.post(`${ATTEMPT}/forgot`, attempt, withPasswords, form(forgotForm), attemptCsrf, run((a, input: FormInput<typeof forgotForm>) => requestReset(a, deps, input), invalidForgotForm));
  router.get(`${ATTEMPT}/forgot/sent`, attempt, withPasswords, run((a) => forgotPage(a, deps, true)));

  // Before `/reset/:token`: "done" can never be a token (tokens are 43 characters).
  const param = (value: unknown) => (typeof value === 'string' ? value.slice(0, 200) : undefined);
  router.get('/reset/done', visit, runVisit((v, _input, ctx) => resetDonePage(v, param(ctx.query.client_id), param(ctx.query.tenant))));
  router.get('/reset/:token', visit, resetCsrf, runVisit((v, _input, ctx) => openReset(v, deps, String(ctx.params.token))));
  router.post('/reset/:token', visit, form(resetForm), resetCsrf, runVisit((v, input: FormInput<typeof resetForm> | undefined, ctx) => completeReset(v, deps, String(ctx.params.token), input)));
}
