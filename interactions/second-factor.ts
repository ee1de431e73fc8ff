/** The second factor of a sign-in: the code field (TOTP or recovery code), TOTP enrolment, recovery codes. */
import type Router from '@koa/router';
import { z } from 'zod';
import { form } from '../src/http/form.js';
import type { SignInDeps } from '../src/sign-in/deps.js';
import type { FormInput } from '../src/sign-in/attempt.js';
import { confirmTotpEnrolment, continueAfterFactor, factorCodeForm, newRecoveryCodes, verifyFactorCode } from '../src/sign-in/methods/totp.js';
import { emailFactorCodeForm, sendFactorEmail, verifyFactorEmail } from '../src/sign-in/methods/email-factor.js';
import { passkeyForm, passkeySignInPage, registerPasskeyFactor, signInWithPasskey, verifyPasskeyFactor } from '../src/sign-in/methods/passkey.js';
import { attemptCsrf, run, type loadAttempt } from './attempt-web.js';
import { ATTEMPT } from './paths.js';

const noFields = z.object({});

export function secondFactorRoutes(router: Router, attempt: ReturnType<typeof loadAttempt>, deps: SignInDeps): void {
  const code = (input: FormInput<typeof factorCodeForm> | undefined) => ({ code: input?.code ?? '' });
  router.post(`${ATTEMPT}/mfa/code`, attempt, form(factorCodeForm), attemptCsrf, run((a, input: FormInput<typeof factorCodeForm> | undefined) => verifyFactorCode(a, deps, { ...code(input), remember: input?.remember })));
  router.post(`${ATTEMPT}/mfa/totp`, attempt, form(factorCodeForm), attemptCsrf, run((a, input: FormInput<typeof factorCodeForm> | undefined) => confirmTotpEnrolment(a, deps, code(input))));
  router.post(`${ATTEMPT}/mfa/recovery-codes`, attempt, form(noFields), attemptCsrf, run((a) => newRecoveryCodes(a, deps)));
  router.post(`${ATTEMPT}/mfa/email/send`, attempt, form(noFields), attemptCsrf, run((a) => sendFactorEmail(a, deps)));
  router.post(`${ATTEMPT}/mfa/email`, attempt, form(emailFactorCodeForm), attemptCsrf,
    run((a, input: FormInput<typeof emailFactorCodeForm> | undefined) => verifyFactorEmail(a, deps, { code: input?.code ?? '', remember: input?.remember })));
  type PasskeyInput = FormInput<typeof passkeyForm> | undefined;
  router.get(`${ATTEMPT}/passkey`, attempt, run((a) => passkeySignInPage(a, deps)));
  // The handlers answer an unparsable response themselves (400, a new challenge), so no `invalid` here.
  router.post(`${ATTEMPT}/passkey`, attempt, form(passkeyForm), attemptCsrf, run((a, input: PasskeyInput) => signInWithPasskey(a, deps, input)));
  router.post(`${ATTEMPT}/mfa/passkey`, attempt, form(passkeyForm), attemptCsrf, run((a, input: PasskeyInput) => verifyPasskeyFactor(a, deps, input)));
  router.post(`${ATTEMPT}/mfa/passkey/register`, attempt, form(passkeyForm), attemptCsrf, run((a, input: PasskeyInput) => registerPasskeyFactor(a, deps, input)));
  router.post(`${ATTEMPT}/mfa/continue`, attempt, form(noFields), attemptCsrf, run((a) => continueAfterFactor(a, deps)));
}
