/**
 * Passkeys in the sign-in (W3C WebAuthn; ceremonies in `src/mfa/webauthn-service.ts`):
 * - as the whole sign-in (`passkey_sign_in`): a discoverable credential, no identifier typed, user verification
 *   required; possession plus verification are two factors (NIST SP 800-63B §5.1.9 multi-factor cryptographic
 *   authenticator), so `amr` gets `mfa`;
 * - as the second factor after a password (user verification preferred);
 * - registered during sign-in when a second factor must be enrolled.
 * A response that does not verify (malformed, wrong challenge, wrong origin, replayed) answers 400 and stores nothing.
 */
import { z } from 'zod';
import { go, page, type Attempt, type Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { advance, afterProof } from '../sequence.js';
import { PASSKEY_SCRIPTS, rememberThisDevice, secondFactorNeed } from '../second-factor-stage.js';
import { PasskeyRefused, passkeyAmr } from '../../mfa/webauthn-service.js';
import { countingMethods } from '../../mfa/policy.js';
import { withSecondFactor } from './totp.js';

export const passkeyMethod: Omit<SignInMethod, 'id'> & { id: 'passkey' } = {
  id: 'passkey',
  identifier: 'none',
  // RFC 8176: hwk/swk (a key), user (verified), mfa.
  amr: ['hwk', 'user', 'mfa'],
  secondFactor: true,
  enabled: (app) => !!app.settings.passkey_sign_in && countingMethods(app).includes('webauthn'),
  views: ['passkey'],
};

/** The browser's JSON response (PublicKeyCredential.toJSON()), parsed at the edge. */
export const passkeyForm = z.object({
  response: z.string().min(2).max(20_000).transform((text, ctx) => {
    try {
      const value = JSON.parse(text) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch { /* reported below */ }
    ctx.addIssue({ code: 'custom', message: 'not a WebAuthn response' });
    return z.NEVER;
  }),
  name: z.string().trim().max(60).optional(),
  remember: z.literal('1').optional(),
});

type Deps = Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors'>;

const REFUSED = 'sign-in:error.passkey_refused';

/** 400 with the page again (a fresh challenge): nothing was stored. */
function refusedPage(view: string, locals: Record<string, unknown>): Outcome {
  return { kind: 'page', view, status: 400, locals: { ...locals, error: REFUSED }, scripts: PASSKEY_SCRIPTS };
}

export async function passkeySignInPage(attempt: Attempt, deps: Deps, error?: string): Promise<Outcome> {
  if (!passkeyMethod.enabled(attempt.app)) return go('');
  const options = await deps.factors.webauthn.authenticationOptions(attempt.app, attempt.uid, 'sign_in');
  const locals = { title: 'sign-in:passkey.title', passkey: { ceremony: 'authenticate', action: '/passkey', options, label: 'sign-in:passkey.use', primary: true } };
  return error ? refusedPage('passkey', locals) : { kind: 'page', view: 'passkey', locals, scripts: PASSKEY_SCRIPTS };
}

/**
 * The sign-in page with passkey autofill (WebAuthn conditional mediation, W3C WebAuthn L3 §5.1.4): the identifier
 * field offers the person's passkeys among its suggestions; picking one signs in as the passkey page does, with the
 * same challenge (one assertion consumes it).
 */
export async function withPasskeyAutofill(outcome: Outcome, attempt: Attempt, deps: Deps): Promise<Outcome> {
  if (outcome.kind !== 'page' || outcome.view !== 'login' || !passkeyMethod.enabled(attempt.app)) return outcome;
  const options = await deps.factors.webauthn.authenticationOptions(attempt.app, attempt.uid, 'sign_in');
  return { ...outcome, locals: { ...outcome.locals, passkeyAutofill: { action: '/passkey', options } }, scripts: PASSKEY_SCRIPTS };
}

export async function signInWithPasskey(attempt: Attempt, deps: Deps, input: z.output<typeof passkeyForm> | undefined): Promise<Outcome> {
  if (!passkeyMethod.enabled(attempt.app)) return go('');
  try {
    if (!input) throw new PasskeyRefused('malformed');
    const { factor, userVerified } = await deps.factors.webauthn.authenticate(attempt.app, attempt.uid, 'sign_in', input.response, attempt.ip);
    const account = await deps.accounts.find(attempt.app, factor.accountId);
    if (!account || account.status !== 'active') throw new PasskeyRefused('account unavailable');
    return afterProof(attempt, deps, { accountIds: [account.id], amr: [...passkeyAmr(factor, userVerified), 'mfa'] }, 'redirect');
  } catch (err) {
    if (!(err instanceof PasskeyRefused)) throw err;
    return passkeySignInPage(attempt, deps, REFUSED);
  }
}

/** A passkey as the second factor of the account waiting for one. */
export async function verifyPasskeyFactor(attempt: Attempt, deps: Deps, input: z.output<typeof passkeyForm> | undefined): Promise<Outcome> {
  const progress = attempt.state.progress;
  if (!progress?.accountId || !(await secondFactorNeed(attempt, deps, progress))) return go('');
  try {
    if (!input) throw new PasskeyRefused('malformed');
    const { factor, userVerified } = await deps.factors.webauthn.authenticate(attempt.app, attempt.uid, 'second_factor', input.response, attempt.ip);
    await rememberThisDevice(attempt, deps, progress.accountId, input.remember === '1');
    return advance(attempt, deps, withSecondFactor(progress, passkeyAmr(factor, userVerified)), 'redirect');
  } catch (err) {
    if (!(err instanceof PasskeyRefused)) throw err;
    const shown = await advance(attempt, deps, progress, 'render');
    return shown.kind === 'page' ? { ...shown, status: 400, locals: { ...shown.locals, error: REFUSED } } : shown;
  }
}

/** Registers a passkey as the account's new second factor during sign-in (enrolment). */
export async function registerPasskeyFactor(attempt: Attempt, deps: Deps, input: z.output<typeof passkeyForm> | undefined): Promise<Outcome> {
  const progress = attempt.state.progress;
  if (!progress?.accountId || !countingMethods(attempt.app).includes('webauthn') || !(await secondFactorNeed(attempt, deps, progress))) return go('');
  const accountId = progress.accountId;
  try {
    if (!input) throw new PasskeyRefused('malformed');
    const factor = await deps.factors.webauthn.register(attempt.app, accountId, attempt.uid, input.response, input.name || 'Passkey', attempt.ip);
    const next = withSecondFactor(progress, passkeyAmr(factor, false));
    if (await deps.factors.hasRecoveryCodes(attempt.app, accountId)) return advance(attempt, deps, next, 'redirect');
    const codes = await deps.factors.regenerateRecoveryCodes(attempt.app, accountId, attempt.ip);
    await attempt.save({ progress: next });
    return page('recovery-codes', { title: 'mfa:title.save_recovery', codes });
  } catch (err) {
    if (!(err instanceof PasskeyRefused)) throw err;
    const shown = await advance(attempt, deps, progress, 'render');
    return shown.kind === 'page' ? { ...shown, status: 400, locals: { ...shown.locals, error: REFUSED } } : shown;
  }
}
