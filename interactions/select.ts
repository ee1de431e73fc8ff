/** Account and tenant selection: each option is a submit button named `choice`. */
import { z } from 'zod';
import { readForm } from '../src/http/body.js';
import { assertCsrf, pendingOf, redirectTo, retry, type Step } from './context.js';
import { applyChoice, continueSignIn, type SequenceDeps } from './sign-in-sequence.js';

const choiceForm = z.object({ _csrf: z.string().optional(), choice: z.string().min(1).max(200) });

export async function select(step: Step, deps: SequenceDeps): Promise<void> {
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  const pending = pendingOf(step);
  if (!pending) return redirectTo(step, step.basePath);
  const parsed = choiceForm.safeParse(form);
  if (!parsed.success || !(await applyChoice(step, deps, pending, parsed.data.choice))) {
    return retry(step, { error: 'Choose one of the options below.' });
  }
  return continueSignIn(step, deps, pending, 'redirect');
}
