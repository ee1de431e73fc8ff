/** Sign-in with a one-time code by email or SMS. */
import type Router from '@koa/router';
import { form } from '../src/http/form.js';
import type { SignInDeps } from '../src/sign-in/deps.js';
import type { FormInput } from '../src/sign-in/attempt.js';
import { codePage, invalidSendCodeForm, sendCode, sendCodeForm, typedCodeForm, verifyCode } from '../src/sign-in/methods/one-time-code.js';
import { attemptCsrf, run, type loadAttempt } from './attempt-web.js';
import { ATTEMPT } from './paths.js';
import { homeRealmStep } from './upstream.js';
import type { UpstreamDeps } from '../src/sign-in/methods/upstream.js';

export function oneTimeCodeRoutes(router: Router, attempt: ReturnType<typeof loadAttempt>, deps: SignInDeps & UpstreamDeps): void {
  router.post(`${ATTEMPT}/code/send`, attempt, form(sendCodeForm), attemptCsrf, homeRealmStep(deps, 'code_or_link'), run((a, input: FormInput<typeof sendCodeForm>) => sendCode(a, deps, input), invalidSendCodeForm));
  router.get(`${ATTEMPT}/code`, attempt, run((a) => codePage(a, deps)));
  router.post(`${ATTEMPT}/code`, attempt, form(typedCodeForm), attemptCsrf, run((a, input: FormInput<typeof typedCodeForm> | undefined) => verifyCode(a, deps, input ?? { code: '' })));
}
