/** The sign-in page of an attempt (identify), its hand-off check, and password sign-in. */
import type Router from '@koa/router';
import { form } from '../src/http/form.js';
import type { SignInDeps } from '../src/sign-in/deps.js';
import { continueHandoff } from '../src/sign-in/handoff.js';
import { invalidPasswordForm, passwordForm, signInWithPassword } from '../src/sign-in/methods/password.js';
import { withPasskeyAutofill } from '../src/sign-in/methods/passkey.js';
import { requestedRealm, withConnectionButtons, type UpstreamDeps } from '../src/sign-in/methods/upstream.js';
import { homeRealmStep } from './upstream.js';
import { resume } from '../src/sign-in/sequence.js';
import { signInPage } from '../src/sign-in/sign-in-page.js';
import type { FormInput } from '../src/sign-in/attempt.js';
import { attemptCsrf, run, type loadAttempt } from './attempt-web.js';
import { takeHandoffToken } from './link-page-web.js';
import { ATTEMPT } from './paths.js';

export function loginRoutes(router: Router, attempt: ReturnType<typeof loadAttempt>, deps: SignInDeps & UpstreamDeps): void {
  router.get(ATTEMPT, attempt, run(async (a, _input, ctx) => {
    // Progress saved, or signed in already and only tenant, account or consent is asked.
    const resumed = resume(a, deps);
    if (resumed) return resumed;
    // Just accepted an invitation or confirmed a sign-in link in this browser: nothing more to prove.
    const token = a.promptName === 'login' ? takeHandoffToken(ctx, a.app.slug) : undefined;
    const handedOff = token ? await continueHandoff(a, deps, token) : undefined;
    return handedOff ?? (await requestedRealm(a, deps)) ?? withConnectionButtons(withPasskeyAutofill(signInPage(a, a.flash), a, deps), a, deps);
  }));
  router.post(`${ATTEMPT}/login`, attempt, form(passwordForm), attemptCsrf, homeRealmStep(deps, 'password'), run((a, input: FormInput<typeof passwordForm>) => signInWithPassword(a, deps, input), invalidPasswordForm));
}
