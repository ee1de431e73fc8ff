/** The stages that ask the person: account and tenant choosers, consent, and "Cancel" on any page. */
import type Router from '@koa/router';
import { z } from 'zod';
import { form } from '../src/http/form.js';
import { again, type FormInput } from '../src/sign-in/attempt.js';
import type { SequenceDeps } from '../src/sign-in/deps.js';
import { answerConsent, cancel, choose, notMe } from '../src/sign-in/sequence.js';
import { attemptCsrf, run, type loadAttempt } from './attempt-web.js';
import { ATTEMPT } from './paths.js';

/** Each option of a chooser is a submit button named `choice`. */
const choiceForm = z.object({ choice: z.string().min(1).max(200) });
const consentForm = z.object({ decision: z.string().max(20).optional() });

export function chooseRoutes(router: Router, attempt: ReturnType<typeof loadAttempt>, deps: SequenceDeps): void {
  router.post(`${ATTEMPT}/select`, attempt, form(choiceForm), attemptCsrf,
    run((a, input: FormInput<typeof choiceForm>) => choose(a, deps, input.choice), () => again({ error: 'sign-in:error.choose_option' })));
  router.post(`${ATTEMPT}/consent`, attempt, form(consentForm), attemptCsrf, run((a, input: FormInput<typeof consentForm> | undefined) => answerConsent(a, deps, input?.decision === 'allow')));
  router.post(`${ATTEMPT}/abort`, attempt, form(z.object({})), attemptCsrf, run(() => cancel()));
  router.post(`${ATTEMPT}/not-me`, attempt, form(z.object({})), attemptCsrf, run((a) => notMe(a)));
}
