/**
 * The second factor of a sign-in: a code from an authenticator app (RFC 6238 TOTP, NIST SP 800-63B §5.1.4.1) or a
 * recovery code (§5.1.2 look-up secret), typed in the same field, and TOTP enrolment during sign-in. The checks
 * themselves (window, replay, lockout) are in `src/mfa/factor-service.ts`; this module moves the sign-in on.
 *
 * Every handler needs a saved progress whose account is known and whose current stage asks for exactly this page:
 * a code for a sign-in that does not need one (or belongs to another attempt) is refused.
 */
import { z } from 'zod';
import { again, go, page, type Attempt, type Outcome, type Progress } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { advance } from '../sequence.js';
import { rememberThisDevice, secondFactorNeed } from '../second-factor-stage.js';

export const totpMethod: Omit<SignInMethod, 'id'> & { id: 'totp' } = {
  id: 'totp',
  identifier: 'none',
  // RFC 8176: `otp` (one-time password); `mfa` is added once two factors were used.
  amr: ['otp'],
  secondFactor: true,
  enabled: (app) => (app.settings.mfa ?? 'off') !== 'off',
  views: ['second-factor', 'mfa-enrol', 'recovery-codes', 'recovery-used'],
};

export const factorCodeForm = z.object({ code: z.string().max(40), remember: z.literal('1').optional() });

type Deps = Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors' | 'messenger'>;

const unique = (values: string[]) => [...new Set(values)];

/** Two factors proved: `amr` gets the factor's values and `mfa` (RFC 8176 §2). */
export function withSecondFactor(progress: Progress, amr: readonly string[]): Progress {
  return { ...progress, amr: unique([...progress.amr, ...amr, 'mfa']) };
}

/** The progress waiting for a second factor, or undefined when this attempt is not at that stage. */
async function waitingProgress(attempt: Attempt, deps: Deps): Promise<Progress | undefined> {
  const progress = attempt.state.progress;
  if (!progress?.accountId) return undefined;
  return (await secondFactorNeed(attempt, deps, progress)) ? progress : undefined;
}

const lockedPage = (retryAfterSeconds: number): Outcome => ({
  kind: 'page', view: 'second-factor', status: 429, retryAfter: retryAfterSeconds,
  locals: { title: 'mfa:title.confirm', unavailable: false, hasTotp: true, hasRecovery: false, locked: true, lockedMinutes: Math.ceil(retryAfterSeconds / 60) },
});

export const LOCKED = 'mfa:error.locked';
const WRONG = 'sign-in:error.code_wrong';

export async function verifyFactorCode(attempt: Attempt, deps: Deps, input: { code: string; remember?: string }): Promise<Outcome> {
  const progress = await waitingProgress(attempt, deps);
  if (!progress) return go('');
  const accountId = progress.accountId!;
  const check = await deps.factors.verifyCode(attempt.app, accountId, input.code, attempt.ip);
  if (check.status === 'locked') return lockedPage(check.retryAfterSeconds);
  if (check.status === 'wrong') return check.locked ? again({ error: LOCKED }) : again({ error: WRONG });
  await rememberThisDevice(attempt, deps, accountId, input.remember === '1');
  if (check.kind === 'totp') return advance(attempt, deps, withSecondFactor(progress, totpMethod.amr), 'redirect');
  // A recovery code: say how many are left (and email it), then continue from that page.
  const next = withSecondFactor(progress, []);
  await attempt.save({ progress: next });
  const account = await deps.accounts.find(attempt.app, accountId);
  if (account?.email) {
    void deps.messenger.send(attempt.app, { channel: 'email', to: account.email, kind: 'recovery_code_used', locals: { remaining: String(check.remaining) }, locale: account.locale ?? attempt.language, brandTenant: attempt.brandTenant });
  }
  return page('recovery-used', { title: 'mfa:title.recovery_accepted', remaining: check.remaining });
}

/** The first code from a new authenticator app: binds it, and shows the recovery codes when they are new. */
export async function confirmTotpEnrolment(attempt: Attempt, deps: Deps, input: { code: string }): Promise<Outcome> {
  const progress = await waitingProgress(attempt, deps);
  if (!progress) return go('');
  const result = await deps.factors.confirmTotp(attempt.app, progress.accountId!, attempt.uid, input.code, attempt.ip);
  if (result.status === 'locked') return lockedPage(result.retryAfterSeconds);
  if (result.status === 'expired') return again({ error: 'mfa:error.setup_expired' });
  if (result.status === 'wrong') return again({ error: result.locked ? LOCKED : WRONG });
  const next = withSecondFactor(progress, totpMethod.amr);
  if (!result.recoveryCodes) return advance(attempt, deps, next, 'redirect');
  await attempt.save({ progress: next });
  return page('recovery-codes', { title: 'mfa:title.save_recovery', codes: result.recoveryCodes });
}

/**
 * A new set of recovery codes, from the page after a recovery code was used: only once two factors were proved in
 * this attempt (NIST SP 800-63B §6.1.2.3: replacing an authenticator needs the other factors).
 */
export async function newRecoveryCodes(attempt: Attempt, deps: Deps): Promise<Outcome> {
  const progress = attempt.state.progress;
  if (!progress?.accountId || !progress.amr.includes('mfa') || (!progress.fresh && !progress.stepUp)) return go('');
  const codes = await deps.factors.regenerateRecoveryCodes(attempt.app, progress.accountId, attempt.ip);
  return page('recovery-codes', { title: 'mfa:title.save_recovery', codes });
}

/** "Continue" after the recovery codes were shown. */
export function continueAfterFactor(attempt: Attempt, deps: Deps): Promise<Outcome> | Outcome {
  const progress = attempt.state.progress;
  if (!progress) return go('');
  return advance(attempt, deps, progress, 'redirect');
}
