/** The sign-in page and password sign-in (OIDC Core §3.1.2.3: the OP authenticates the End-User). */
import { z } from 'zod';
import { PASSWORD_MAX } from '../src/accounts/password.js';
import type { AccountService } from '../src/accounts/account-service.js';
import type { AuditLog } from '../src/audit/audit-log.js';
import { readForm } from '../src/http/body.js';
import { LIMITS, type RateLimiter } from '../src/http/rate-limit.js';
import { TooManyRequestsError } from '../src/http/errors.js';
import { assertCsrf, renderStep, retry, type Step } from './context.js';
import { continueSignIn, type SequenceDeps } from './sign-in-sequence.js';

export interface LoginDeps extends SequenceDeps {
  accounts: AccountService;
  audit: AuditLog;
  limiter: RateLimiter;
  ipPerHour: number;
}

/** One generic message for every failure: never which of identifier or password was wrong (ASVS V2.2, no enumeration). */
export const INVALID_CREDENTIALS = 'Invalid email or password';

const passwordForm = z.object({
  _csrf: z.string().max(200).optional(),
  identifier: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(PASSWORD_MAX * 4),
});

export function renderLogin(step: Step): void {
  const flash = step.flash;
  const methods = step.app.settings.login_methods;
  renderStep(step, 'login', {
    title: `Sign in to ${step.app.name}`,
    identifier: flash?.identifier ?? (step.interaction.params.login_hint as string | undefined) ?? '',
    methods,
    registrationOpen: step.app.settings.registration === 'open',
  });
}

export async function passwordLogin(step: Step, deps: LoginDeps): Promise<void> {
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  const parsed = passwordForm.safeParse(form);
  if (!parsed.success || !step.app.settings.login_methods.includes('password')) {
    return retry(step, { error: INVALID_CREDENTIALS, identifier: form.identifier?.slice(0, 320) });
  }
  const { identifier, password } = parsed.data;
  try {
    await deps.limiter.hit(step.app.id, LIMITS.passwordPerIp(deps.ipPerHour), step.ctx.state.ip);
    if (await deps.limiter.exceeded(step.app.id, LIMITS.passwordPerIdentifier, identifier)) throw new TooManyRequestsError(LIMITS.passwordPerIdentifier.windowSeconds);
  } catch (err) {
    if (err instanceof TooManyRequestsError) return retry(step, { error: 'Too many attempts. Please wait a few minutes and try again.', identifier });
    throw err;
  }

  const accounts = await deps.accounts.verifyPassword(step.app, identifier, password);
  if (accounts.length === 0) {
    await deps.limiter.hit(step.app.id, LIMITS.passwordPerIdentifier, identifier).catch(() => undefined);
    await deps.audit.record(step.app, 'sign_in.failed', { ip: step.ctx.state.ip, detail: { method: 'password' } });
    return retry(step, { error: INVALID_CREDENTIALS, identifier });
  }
  await deps.limiter.reset(step.app.id, LIMITS.passwordPerIdentifier, identifier);
  // With several accounts behind one email, only those whose password matched are offered.
  return continueSignIn(step, deps, { accountIds: accounts.map((a) => a.id), amr: ['pwd'], fresh: true }, 'redirect');
}
