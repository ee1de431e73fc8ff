/**
 * Self-registration, for apps whose `registration` setting is `open` (404 otherwise). The person gives a name, an
 * email and a password; the account is created only once they type back the code emailed to the address (NIST SP
 * 800-63B §5.1.3 out-of-band proof of the address; codes as in `one-time-code-secret.ts`, valid
 * `lifetimes.registrationCode`).
 *
 * No enumeration (OWASP ASVS V2.2): when the app allows one account per email and the address already has one, the
 * same 303 and the same code page follow, but the address receives `already_registered` instead of a code, and
 * nothing typed on the code page can ever match. The password is hashed at once in both cases, so both answers take
 * the same time; it is never kept in plaintext.
 */
import { z } from 'zod';
import { personName } from '../../accounts/contact-schemas.js';
import { PASSWORD_MAX, PASSWORD_MIN, typedPasswordSchema } from '../../accounts/password-policy.js';
import { passwordProblemText } from '../password-text.js';
import { text } from '../../i18n/text.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { AppRecord } from '../../storage/ports.js';
import { again, go, page, type Attempt, type Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { afterProof } from '../sequence.js';
import { identifierField, INVALID_IDENTIFIER, limitSends, parseIdentifier } from '../identifier.js';
import { checkCode, issueCode, peekCode } from '../one-time-code-secret.js';

export const registrationMethod: SignInMethod = {
  id: 'registration',
  identifier: 'email',
  // Typing the code proved the address and the password was just chosen: RFC 8176 `pwd` + `email`.
  amr: ['pwd', 'email'],
  secondFactor: false,
  enabled: (app: AppRecord) => app.settings.registration === 'open',
  views: ['register', 'verify-email'],
};

interface PendingRegistration {
  email: string;
  name: string;
  /** argon2id hash, made when the form was posted. */
  passwordHash: string;
  /** False when the address already has an account: no code was sent, and none matches. */
  available: boolean;
}

export const registerForm = z.object({ name: personName, identifier: identifierField, password: typedPasswordSchema });
export const invalidRegisterForm = (raw: Record<string, string>): Outcome =>
  again({ error: 'sign-in:error.register_fields', ...typedBack(raw) }, '/register');
export const typedCodeForm = z.object({ code: z.string().max(20) });

const typedBack = (raw: Record<string, string | undefined>) => ({ name: raw.name?.trim().slice(0, 100), identifier: raw.identifier?.trim().slice(0, 320) });

type Deps = Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors' | 'limiter' | 'messenger' | 'ephemeral' | 'lifetimes' | 'ipPerHour'>;

function ensureOpen(attempt: Attempt): void {
  if (!registrationMethod.enabled(attempt.app)) throw new NotFoundError('This app does not accept new accounts. Ask the application for an invitation.');
}

export function registerPage(attempt: Attempt): Outcome {
  ensureOpen(attempt);
  return page('register', {
    title: text('sign-in:register.title', { app: attempt.app.name }),
    name: attempt.flash?.name ?? '',
    identifier: attempt.flash?.identifier ?? '',
    minLength: PASSWORD_MIN,
    maxLength: PASSWORD_MAX,
  });
}

export async function register(attempt: Attempt, deps: Deps, input: z.output<typeof registerForm>): Promise<Outcome> {
  ensureOpen(attempt);
  const typed = typedBack(input);
  const email = parseIdentifier(input.identifier, 'email');
  if (!email) return again({ error: INVALID_IDENTIFIER.email, ...typed }, '/register');
  const problem = passwordProblemText(input.password, { email, appName: attempt.app.name });
  if (problem) return again({ error: problem, ...typed }, '/register');
  if (await limitSends(deps.limiter, attempt.app.id, deps.ipPerHour, attempt.ip, email)) {
    return again({ error: 'sign-in:error.too_many_registrations', ...typed }, '/register');
  }

  const [passwordHash, existing] = await Promise.all([
    deps.accounts.hashPassword(input.password),
    attempt.app.settings.accounts_per_email === 'one' ? deps.accounts.findByEmail(attempt.app, email) : Promise.resolve([]),
  ]);
  const available = existing.length === 0;
  const pending: PendingRegistration = { email, name: input.name, passwordHash, available };
  // A new registration replaces the previous one of this attempt and starts its own count of wrong tries.
  const code = await issueCode(attempt, deps.ephemeral, 'register', pending, deps.lifetimes.registrationCode, { redeemable: available });
  // Not awaited, either way: the answer must not take longer for one kind of address. send() never rejects.
  if (available) {
    void deps.messenger.send(attempt.app, { channel: 'email', to: email, kind: 'verify_email', locals: { code }, locale: attempt.language, brandTenant: attempt.brandTenant });
  } else if (existing.some((a) => !a.optedOut)) {
    void deps.messenger.send(attempt.app, { channel: 'email', to: email, kind: 'already_registered', locals: {}, locale: existing[0].locale ?? attempt.language, brandTenant: attempt.brandTenant });
  }
  await deps.audit.record(attempt.app, 'registration.requested', { ip: attempt.ip });
  return go('/register/verify');
}

export async function verifyPage(attempt: Attempt, deps: Deps): Promise<Outcome> {
  ensureOpen(attempt);
  const pending = await peekCode<PendingRegistration>(attempt, deps.ephemeral, 'register');
  if (!pending) return again({ error: 'sign-in:error.registration_expired' }, '/register');
  return page('verify-email', { title: 'sign-in:verify.title', email: pending.email, validMinutes: deps.lifetimes.registrationCode / 60 });
}

export async function verifyRegistration(attempt: Attempt, deps: Deps, input: { code: string }): Promise<Outcome> {
  ensureOpen(attempt);
  const check = await checkCode<PendingRegistration>(attempt, deps.ephemeral, 'register', input.code, {
    ttlSeconds: deps.lifetimes.registrationCode,
  });
  if (check.status === 'exhausted') return again({ error: 'sign-in:error.registration_exhausted' }, '/register');
  if (check.status === 'expired') return again({ error: 'sign-in:error.registration_expired' }, '/register');
  if (check.status === 'wrong') {
    await deps.audit.record(attempt.app, 'registration.failed', { ip: attempt.ip });
    return again({ error: 'sign-in:error.code_wrong' }, '/register/verify');
  }

  const { stored } = check;
  let accountId: string;
  try {
    const account = await deps.accounts.create(attempt.app, { email: stored.email, name: stored.name, email_verified: true, status: 'active' }, { passwordHash: stored.passwordHash });
    accountId = account.id;
  } catch (err) {
    // Registered meanwhile (another tab, an invitation): only someone who holds the code learns it.
    if (!(err instanceof ConflictError)) throw err;
    return again({ error: 'sign-in:error.already_registered', identifier: stored.email });
  }
  await deps.audit.record(attempt.app, 'account.registered', { accountId, ip: attempt.ip, detail: { client_id: attempt.client.clientId } });
  return afterProof(attempt, deps, { accountIds: [accountId], amr: [...registrationMethod.amr] }, 'redirect');
}
