/**
 * Password sign-in (OIDC Core §3.1.2.3: the OP authenticates the End-User; NIST SP 800-63B §5.1.1 memorized secret).
 *
 * One generic message for every failure: never which of identifier or password was wrong (OWASP ASVS V2.2, no
 * enumeration); unknown identifiers cost the same argon2 time as known ones (`PasswordHasher.verify`). Throttling
 * (NIST SP 800-63B §5.2.2) counts failures per identifier *and client IP* (10 per 15 minutes), so a stranger cannot
 * lock the person out from elsewhere, and per identifier from anywhere with the NIST ceiling of 100; refusals answer
 * 429 with Retry-After while the page stays friendly.
 */
import { z } from 'zod';
import { typedPasswordSchema } from '../../accounts/password-policy.js';
import { LIMITS, type Limit } from '../../limits/rate-limiter.js';
import { again, type Attempt, type Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { afterProof } from '../sequence.js';
import { signInPage, tooMany } from '../sign-in-page.js';
import { identifierField } from '../identifier.js';
import { recordFailedSignIn } from '../failed-sign-in.js';

export const passwordMethod: SignInMethod = {
  id: 'password',
  identifier: 'email',
  amr: ['pwd'],
  secondFactor: false,
  enabled: (app) => app.settings.login_methods.includes('password'),
  views: ['login'],
};

export const INVALID_CREDENTIALS = 'sign-in:error.invalid_credentials';
export const TOO_MANY_ATTEMPTS = 'sign-in:error.too_many_attempts';

export const passwordForm = z.object({ identifier: identifierField, password: typedPasswordSchema.min(1) });

/** What a form that does not parse shows: the same message as a wrong password. */
export const invalidPasswordForm = (raw: Record<string, string>): Outcome => again({ error: INVALID_CREDENTIALS, identifier: raw.identifier?.slice(0, 320) });

type Deps = Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors' | 'limiter' | 'ipPerHour'>;

export async function signInWithPassword(attempt: Attempt, deps: Deps, input: z.output<typeof passwordForm>): Promise<Outcome> {
  const { identifier, password } = input;
  if (!passwordMethod.enabled(attempt.app)) return invalidPasswordForm({ identifier });
  const ip = attempt.ip ?? 'unknown';
  const failures: Array<readonly [Limit, string]> = [
    [LIMITS.passwordPerIdentifierAndIp, `${identifier}|${ip}`],
    [LIMITS.passwordPerIdentifier, identifier],
  ];
  const [ipHit, counters] = await Promise.all([
    deps.limiter.hit(attempt.app.id, LIMITS.passwordPerIp(deps.ipPerHour), ip),
    deps.limiter.check(attempt.app.id, failures),
  ]);
  const refused = ipHit ?? counters.exceeded;
  if (refused) return tooMany(signInPage(attempt, { error: TOO_MANY_ATTEMPTS, identifier }), refused.retryAfterSeconds);

  const accounts = await deps.accounts.verifyPassword(attempt.app, identifier, password);
  if (accounts.length === 0) {
    await Promise.all([
      deps.limiter.hitAll(attempt.app.id, failures),
      recordFailure(attempt, deps, identifier),
    ]);
    // This failure is the one that locked the identifier: recorded once per lock (a webhook event for portals).
    const locked = (await deps.limiter.check(attempt.app.id, failures)).exceeded;
    if (locked) {
      await deps.audit.record(attempt.app, 'sign_in.locked', {
        ip: attempt.ip, detail: { method: 'password', limit: locked.limit.name, retry_after_seconds: locked.retryAfterSeconds },
      });
    }
    return again({ error: INVALID_CREDENTIALS, identifier });
  }
  // A success ends the run of consecutive failures (only counters that exist are deleted).
  await Promise.all(counters.used.map(([limit, subject]) => deps.limiter.reset(attempt.app.id, limit, subject)));
  // With several accounts behind one email, only those whose password matched are offered.
  return afterProof(attempt, deps, { accountIds: accounts.map((a) => a.id), amr: [...passwordMethod.amr] }, 'redirect');
}

/**
 * A failed password is recorded against every active account the email belongs to. Only on the failure path: a
 * successful sign-in costs no extra read.
 */
async function recordFailure(attempt: Attempt, deps: Deps, identifier: string): Promise<void> {
  const owners = (await deps.accounts.findByEmail(attempt.app, identifier)).filter((a) => a.status === 'active');
  await recordFailedSignIn(attempt, deps.audit, owners.map((a) => a.id), { method: 'password', reason: 'invalid_credentials' });
}
