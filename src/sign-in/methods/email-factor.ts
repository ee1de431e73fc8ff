/**
 * An emailed code as the second factor of a sign-in whose first factor was something else (a password): NIST SP
 * 800-63B §5.1.3 out-of-band. The code is the same 6-digit HMAC-bound, single-use, 5-tries code as sign-in codes,
 * under its own purpose (`mfa-email`), so it can never be typed as a first factor, and it is bound to the account
 * waiting for its second factor. Sends share the per-address wait and send caps of every code and link.
 */
import { z } from 'zod';
import { again, go, type Attempt, type Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { advance } from '../sequence.js';
import { emailCodeOffered, rememberThisDevice, secondFactorNeed } from '../second-factor-stage.js';
import { sendRefusal } from '../identifier.js';
import { checkCode, issueCode } from '../one-time-code-secret.js';
import { withSecondFactor } from './totp.js';

export const emailFactorMethod: Omit<SignInMethod, 'id'> & { id: 'email_code_factor' } = {
  id: 'email_code_factor',
  identifier: 'none',
  // RFC 8176: a one-time password delivered by email.
  amr: ['otp', 'email'],
  secondFactor: true,
  enabled: (app) => (app.settings.mfa ?? 'off') !== 'off' && (app.settings.mfa_methods ?? []).includes('email_code'),
  views: ['second-factor'],
};

export const emailFactorCodeForm = z.object({ code: z.string().max(20), remember: z.literal('1').optional() });

type Deps = Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors' | 'messenger' | 'ephemeral' | 'limiter' | 'lifetimes' | 'ipPerHour'>;

interface StoredFactorCode {
  accountId: string;
}

/** The account waiting for its second factor, when an emailed code may serve as it. */
async function waitingAccount(attempt: Attempt, deps: Deps) {
  const progress = attempt.state.progress;
  if (!progress?.accountId || !(await secondFactorNeed(attempt, deps, progress))) return undefined;
  const account = await deps.accounts.find(attempt.app, progress.accountId);
  return account && emailCodeOffered(attempt, progress, account) ? { progress, account } : undefined;
}

export async function sendFactorEmail(attempt: Attempt, deps: Deps): Promise<Outcome> {
  const waiting = await waitingAccount(attempt, deps);
  if (!waiting) return go('');
  const email = waiting.account.email!;
  const refused = await sendRefusal(attempt, deps, email, { noun: 'code', plural: 'codes', waitingPage: '' });
  if (refused) return refused;
  const code = await issueCode<StoredFactorCode>(attempt, deps.ephemeral, 'mfa-email', { accountId: waiting.account.id }, deps.lifetimes.signInCode, { boundTo: waiting.account.id });
  await deps.messenger.send(attempt.app, { channel: 'email', to: email, kind: 'sign_in_code', locals: { code }, locale: waiting.account.locale ?? attempt.language, brandTenant: attempt.brandTenant });
  await attempt.save({ factorEmail: true });
  return again({ notice: 'mfa:notice.email_sent' });
}

export async function verifyFactorEmail(attempt: Attempt, deps: Deps, input: { code: string; remember?: string }): Promise<Outcome> {
  const waiting = await waitingAccount(attempt, deps);
  if (!waiting) return go('');
  const check = await checkCode<StoredFactorCode>(attempt, deps.ephemeral, 'mfa-email', input.code, {
    ttlSeconds: deps.lifetimes.signInCode,
    // Right only for the account it was sent to (the attempt may wait for another one by now).
    boundTo: waiting.account.id,
  });
  if (check.status === 'exhausted') return again({ error: 'sign-in:error.code_exhausted' });
  if (check.status === 'expired') return again({ error: 'sign-in:error.code_expired' });
  if (check.status === 'wrong') {
    await deps.audit.record(attempt.app, 'mfa.failed', { accountId: waiting.account.id, ip: attempt.ip, detail: { type: 'email_code' } });
    return again({ error: 'sign-in:error.code_wrong' });
  }
  await rememberThisDevice(attempt, deps, waiting.account.id, input.remember === '1');
  await Promise.all([
    deps.audit.record(attempt.app, 'mfa.used', { accountId: waiting.account.id, ip: attempt.ip, detail: { type: 'email_code' } }),
    attempt.save({ factorEmail: undefined }),
  ]);
  return advance(attempt, deps, withSecondFactor(waiting.progress, emailFactorMethod.amr), 'redirect');
}
