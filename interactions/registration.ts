/** Self-registration: the form, then the emailed code that proves the address. */
import type Router from '@koa/router';
import { form } from '../src/http/form.js';
import type { SignInDeps } from '../src/sign-in/deps.js';
import type { FormInput } from '../src/sign-in/attempt.js';
import { invalidRegisterForm, register, registrationMethod, registerForm, registerPage, typedCodeForm, verifyPage, verifyRegistration } from '../src/sign-in/methods/registration.js';
import { attemptCsrf, offered, run, type loadAttempt } from './attempt-web.js';
import { ATTEMPT } from './paths.js';

export function registrationRoutes(router: Router, attempt: ReturnType<typeof loadAttempt>, deps: SignInDeps): void {
  const open = offered(registrationMethod);
  router.get(`${ATTEMPT}/register`, attempt, open, run((a) => registerPage(a)));
  router.post(`${ATTEMPT}/register`, attempt, open, form(registerForm), attemptCsrf, run((a, input: FormInput<typeof registerForm>) => register(a, deps, input), invalidRegisterForm));
  router.get(`${ATTEMPT}/register/verify`, attempt, open, run((a) => verifyPage(a, deps)));
  router.post(`${ATTEMPT}/register/verify`, attempt, open, form(typedCodeForm), attemptCsrf, run((a, input: FormInput<typeof typedCodeForm> | undefined) => verifyRegistration(a, deps, input ?? { code: '' })));
}
