/**
 * The second-factor stage of `sequence.ts` (NIST SP 800-63B §4.2 multi-factor): decides, from the app's and the
 * tenant's `mfa` policy, the factors the account has and what the relying party asked for (`acr_values`), whether
 * this sign-in needs a second factor, and if so asks for it (or for enrolment when the person has none).
 *
 * The stage runs twice in the sequence: before the tenant is chosen (app policy, enrolled factors, step-up) and
 * again after it (a tenant that requires MFA applies only when that tenant is chosen). Asking before the tenant
 * keeps the tenant chooser behind both factors whenever the app asks; asking again after it covers tenants that
 * require more than the app. A factor proved once in the attempt satisfies both runs (`amr` has `mfa`).
 */
import { asksForMfa, countingMethods, effectivePolicy } from '../mfa/policy.js';
import type { AccountRecord } from '../storage/ports.js';
import { deviceCookieName, deviceToken, isRememberedDevice } from '../mfa/remembered-device.js';
import type { Attempt, Progress } from './attempt.js';
import type { SignInDeps } from './deps.js';

/** What the stage asks: a second factor, or enrolment of one. */
export type FactorAsk = { view: 'second-factor' | 'mfa-enrol'; locals: Record<string, unknown>; scripts?: string[] };

/** The page scripts of passkey ceremonies are served from this origin. */
export const PASSKEY_SCRIPTS = ["'self'"];

type Deps = Pick<SignInDeps, 'accounts' | 'tenants' | 'factors'>;

/** The tenant chosen so far, when it is known. */
async function chosenTenant(attempt: Attempt, deps: Deps, progress: Progress) {
  if (!progress.tenantId) return undefined;
  return deps.tenants.find(attempt.app, progress.tenantId);
}

/** Why a second factor is needed now, or undefined when it is not. */
export async function secondFactorNeed(attempt: Attempt, deps: Deps, progress: Progress): Promise<'required' | 'enrolled' | 'step_up' | undefined> {
  if (progress.amr.includes('mfa')) return undefined;
  const tenant = await chosenTenant(attempt, deps, progress);
  // A session that merely continues (consent, tenant chooser) proved its factors when it signed in, unless it now
  // enters a tenant that requires a second factor the session never proved.
  if (!progress.fresh && !progress.stepUp) return effectivePolicy(attempt.app, tenant) === 'required' && tenant?.mfa === 'required' ? 'required' : undefined;
  const policy = effectivePolicy(attempt.app, tenant);
  if (policy === 'off') return undefined;
  // A relying party that asks for two factors gets them, remembered device or not.
  if (progress.stepUp || asksForMfa(attempt.request.acrValues)) return 'step_up';
  const usable = await deps.factors.usable(attempt.app, progress.accountId!);
  if (policy !== 'required' && usable.length === 0) return undefined;
  if (usable.length > 0 && await rememberedHere(attempt, deps, progress.accountId!)) return undefined;
  return policy === 'required' ? 'required' : 'enrolled';
}

/** True when this browser carries a valid remembered-device cookie of the account (and the app offers it). */
async function rememberedHere(attempt: Attempt, deps: Deps, accountId: string): Promise<boolean> {
  if (!attempt.app.settings.mfa_remember_days) return false;
  const token = attempt.rememberedDevices?.[deviceCookieName(accountId)];
  if (!token) return false;
  const [account, factors] = await Promise.all([deps.accounts.find(attempt.app, accountId), deps.factors.list(attempt.app, accountId)]);
  return !!account && isRememberedDevice(attempt.secret, token, account, factors);
}

/** After a second factor: "Remember this device" when the person ticked it and the app offers it. */
export async function rememberThisDevice(attempt: Attempt, deps: Deps, accountId: string, ticked: boolean): Promise<void> {
  const days = attempt.app.settings.mfa_remember_days ?? 0;
  if (!ticked || days <= 0 || !attempt.rememberDevice) return;
  const [account, factors] = await Promise.all([deps.accounts.find(attempt.app, accountId), deps.factors.list(attempt.app, accountId)]);
  if (!account) return;
  const maxAge = days * 24 * 3600;
  attempt.rememberDevice(deviceCookieName(accountId), deviceToken(attempt.secret, account, factors, Math.floor(Date.now() / 1000) + maxAge), maxAge);
}

/**
 * An emailed code counts as the second factor when the app lists `email_code`, the account has a verified email,
 * and the first factor was not that same email (a second code to one inbox proves nothing new).
 */
export function emailCodeOffered(attempt: Attempt, progress: Progress, account: AccountRecord | undefined): boolean {
  return countingMethods(attempt.app).includes('email_code') && !!account?.email && account.emailVerified && !progress.amr.includes('email');
}

/** `a***@example.com`: enough to recognise the address, not to learn it from the page. */
export function maskEmail(email: string): string {
  const [local, domain] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

export async function secondFactorAsk(attempt: Attempt, deps: Deps, progress: Progress): Promise<FactorAsk | undefined> {
  const need = await secondFactorNeed(attempt, deps, progress);
  if (!need) return undefined;
  const accountId = progress.accountId!;
  const factors = await deps.factors.list(attempt.app, accountId);
  const usable = await deps.factors.usable(attempt.app, accountId);
  const account = await deps.accounts.find(attempt.app, accountId);
  const emailCode = emailCodeOffered(attempt, progress, account);
  const passkeys = countingMethods(attempt.app).includes('webauthn');
  if (usable.length === 0 && !emailCode) {
    // NIST SP 800-63B §6.1.2.1: binding a new authenticator requires the existing factor, proved just now.
    if (passkeys && account && !countingMethods(attempt.app).includes('totp')) {
      const options = await deps.factors.webauthn.registrationOptions(attempt.app, account, attempt.uid);
      return { view: 'mfa-enrol', scripts: PASSKEY_SCRIPTS, locals: { title: 'mfa:title.add_passkey', reason: need, enrolment: undefined, passkey: { ceremony: 'register', action: '/mfa/passkey/register', options, label: 'mfa:passkey.add', primary: true } } };
    }
    if (!countingMethods(attempt.app).includes('totp')) {
      return { view: 'second-factor', locals: { title: 'mfa:title.needed', unavailable: true, hasTotp: false, hasRecovery: false } };
    }
    const enrolment = await deps.factors.beginTotp(attempt.app, accountId, attempt.uid, account?.email ?? account?.phone ?? account?.name ?? accountId);
    const passkey = passkeys && account
      ? { ceremony: 'register', action: '/mfa/passkey/register', options: await deps.factors.webauthn.registrationOptions(attempt.app, account, attempt.uid), label: 'mfa:passkey.add', primary: false }
      : undefined;
    return { view: 'mfa-enrol', scripts: passkey ? PASSKEY_SCRIPTS : undefined, locals: { title: 'mfa:title.set_up_totp', reason: need, enrolment, passkey } };
  }
  const passkey = usable.some((f) => f.type === 'webauthn')
    ? { ceremony: 'authenticate', action: '/mfa/passkey', options: await deps.factors.webauthn.authenticationOptions(attempt.app, attempt.uid, 'second_factor', accountId), label: 'mfa:passkey.use', primary: true }
    : undefined;
  return {
    view: 'second-factor',
    scripts: passkey ? PASSKEY_SCRIPTS : undefined,
    locals: {
      passkey,
      title: 'mfa:title.confirm',
      unavailable: false,
      hasTotp: usable.some((f) => f.type === 'totp'),
      hasRecovery: factors.some((f) => f.type === 'recovery_codes' && (f.codeHashes?.length ?? 0) > 0),
      rememberDays: attempt.app.settings.mfa_remember_days ?? 0,
      emailCode,
      emailSent: emailCode && !!attempt.state.factorEmail,
      maskedEmail: emailCode ? maskEmail(account!.email!) : undefined,
    },
  };
}
