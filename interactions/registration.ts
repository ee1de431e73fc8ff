/**
 * Self-registration, for apps whose `registration` setting is `open` (404 otherwise). The person gives a name, an
 * email and a password; the account is created only once they type back the code emailed to the address (NIST SP
 * 800-63B §5.1.3 out-of-band proof of the address, with the code rules of `one-time-secret.ts`: 6 digits, hashed,
 * bound to the interaction, 15 minutes, 5 wrong tries).
 *
 * No enumeration (OWASP ASVS V2.2 / Authentication Cheat Sheet, registration): when the app allows one account per
 * email and the address already has one, the same 303 and the same code page follow, but the address receives
 * `already_registered` instead of a code, and nothing typed on the code page can ever match. The password is hashed
 * at once in both cases, so both answers take the same time; it is never kept in plaintext.
 */
import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN, passwordProblem } from '../src/accounts/password.js';
import { readForm } from '../src/http/body.js';
import { LIMITS } from '../src/http/rate-limit.js';
import { ConflictError, NotFoundError, TooManyRequestsError } from '../src/http/errors.js';
import { assertCsrf, redirectTo, renderStep, retry, type Step } from './context.js';
import { continueSignIn } from './sign-in-sequence.js';
import { parseIdentifier, type CodeDeps } from './one-time-code.js';
import { checkCode, codeHash, newCode, secretKeys } from './one-time-secret.js';

export type RegistrationDeps = CodeDeps;

/** Validity of the emailed code (the `verify_email` message says 15 minutes). */
export const REGISTRATION_CODE_TTL_SECONDS = 15 * 60;

const PURPOSE = 'register';
export const NAME_MAX = 100;

interface PendingRegistration {
  hash: string;
  email: string;
  name: string;
  /** argon2id hash, made when the form was posted. */
  passwordHash: string;
  /** False when the address already has an account: no code was sent, and none matches. */
  available: boolean;
}

const registerForm = z.object({
  _csrf: z.string().optional(),
  name: z.string().trim().min(1).max(NAME_MAX),
  identifier: z.string().trim().min(1).max(320),
  password: z.string().max(PASSWORD_MAX * 4),
});
const codeForm = z.object({ _csrf: z.string().optional(), code: z.string().max(20) });

function ensureOpen(step: Step): void {
  if (step.app.settings.registration !== 'open') throw new NotFoundError('This app does not accept new accounts. Ask the application for an invitation.');
}

const registerPath = (step: Step) => `${step.basePath}/register`;

export function renderRegister(step: Step): void {
  ensureOpen(step);
  renderStep(step, 'register', {
    title: `Create your ${step.app.name} account`,
    name: step.flash?.name ?? '',
    identifier: step.flash?.identifier ?? '',
    minLength: PASSWORD_MIN,
    maxLength: PASSWORD_MAX,
  });
}

export async function register(step: Step, deps: RegistrationDeps): Promise<void> {
  ensureOpen(step);
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  const here = registerPath(step);
  const typed = { name: form.name?.trim().slice(0, NAME_MAX), identifier: form.identifier?.trim().slice(0, 320) };
  const parsed = registerForm.safeParse(form);
  if (!parsed.success) return retry(step, { error: 'Enter your name, your email address and a password.', ...typed }, here);
  const email = parseIdentifier(parsed.data.identifier, 'email');
  if (!email) return retry(step, { error: 'Enter a valid email address.', ...typed }, here);
  const problem = passwordProblem(parsed.data.password);
  if (problem) return retry(step, { error: problem, ...typed }, here);
  try {
    await deps.limiter.hit(step.app.id, LIMITS.sendsPerIp(deps.ipPerHour), step.ctx.state.ip);
    await deps.limiter.hit(step.app.id, LIMITS.sendsPerIdentifier, email);
  } catch (err) {
    if (!(err instanceof TooManyRequestsError)) throw err;
    return retry(step, { error: 'Too many attempts. Please try again later.', ...typed }, here);
  }

  const passwordHash = await deps.accounts.hashPassword(parsed.data.password);
  const existing = step.app.settings.accounts_per_email === 'one' ? await deps.accounts.findByEmail(step.app, email) : [];
  const available = existing.length === 0;
  const code = newCode();
  const k = secretKeys(step, PURPOSE);
  const pending: PendingRegistration = { hash: codeHash(step, PURPOSE, code), email, name: parsed.data.name, passwordHash, available };
  // A new registration replaces the previous one of this interaction and starts its own count of wrong tries.
  await Promise.all([deps.ephemeral.set(k.code, pending, REGISTRATION_CODE_TTL_SECONDS), deps.ephemeral.delete(k.tries)]);
  // Not awaited, either way: the answer must not take longer for one kind of address. send() never rejects.
  if (available) {
    void deps.messenger.send(step.app, { channel: 'email', to: email, kind: 'verify_email', locals: { code, validMinutes: REGISTRATION_CODE_TTL_SECONDS / 60 } });
  } else if (existing.some((a) => !a.optedOut)) {
    void deps.messenger.send(step.app, { channel: 'email', to: email, kind: 'already_registered', locals: {}, locale: existing[0].locale });
  }
  await deps.audit.record(step.app, 'registration.requested', { ip: step.ctx.state.ip });
  redirectTo(step, `${here}/verify`);
}

export async function renderVerify(step: Step, deps: RegistrationDeps): Promise<void> {
  ensureOpen(step);
  const pending = await deps.ephemeral.get<PendingRegistration>(secretKeys(step, PURPOSE).code);
  if (!pending) return retry(step, { error: 'Your code has expired. Please fill in the form again.' }, registerPath(step));
  renderStep(step, 'verify-email', { title: 'Confirm your email address', email: pending.email, validMinutes: REGISTRATION_CODE_TTL_SECONDS / 60 });
}

export async function verifyRegistration(step: Step, deps: RegistrationDeps): Promise<void> {
  ensureOpen(step);
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  const here = `${registerPath(step)}/verify`;
  const check = await checkCode<PendingRegistration>(step, deps.ephemeral, PURPOSE, codeForm.safeParse(form).data?.code ?? '', {
    ttlSeconds: REGISTRATION_CODE_TTL_SECONDS,
    redeemable: (p) => p.available,
  });
  if (check.status === 'exhausted') return retry(step, { error: 'This code can no longer be used. Please fill in the form again to get a new one.' }, registerPath(step));
  if (check.status === 'expired') return retry(step, { error: 'Your code has expired. Please fill in the form again.' }, registerPath(step));
  if (check.status === 'wrong') {
    await deps.audit.record(step.app, 'registration.failed', { ip: step.ctx.state.ip });
    return retry(step, { error: 'That code is not right. Check it and try again.' }, here);
  }

  const { stored } = check;
  let accountId: string;
  try {
    const account = await deps.accounts.create(step.app, { email: stored.email, name: stored.name, email_verified: true, status: 'active' }, { passwordHash: stored.passwordHash });
    accountId = account.id;
  } catch (err) {
    // Registered meanwhile (another tab, an invitation): only someone who holds the code learns it.
    if (!(err instanceof ConflictError)) throw err;
    return retry(step, { error: 'An account with this email address already exists. Sign in instead.', identifier: stored.email }, step.basePath);
  }
  await deps.audit.record(step.app, 'account.registered', { accountId, ip: step.ctx.state.ip, detail: { client_id: step.client.clientId } });
  // Typing the code proved the address and the password was just chosen: RFC 8176 `pwd` + `email`.
  return continueSignIn(step, deps, { accountIds: [accountId], amr: ['pwd', 'email'], fresh: true }, 'redirect');
}
