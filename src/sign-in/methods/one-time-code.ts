/**
 * Sign-in with a one-time code sent by email or SMS (NIST SP 800-63B §5.1.3 out-of-band / §5.1.4 OTP): 6 digits,
 * stored hashed, valid `lifetimes.signInCode`, single use, bound to the attempt that asked for it, only the newest
 * code valid, at most 5 wrong tries per code, one send per identifier every `lifetimes.resendAfter`, and send caps
 * per identifier and IP. "Send me a code" answers the same whether or not the identifier belongs to an account:
 * unknown, opted-out and deactivated contacts simply get no message (OWASP ASVS V2.2, no enumeration).
 */
import { z } from 'zod';
import { mayReceiveSignInMessages } from '../../accounts/account-service.js';
import type { AccountRecord, AppRecord } from '../../storage/ports.js';
import { again, go, page, secondsUntilResend, type Attempt, type Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { afterProof } from '../sequence.js';
import { identifierField, INVALID_IDENTIFIER, parseIdentifier, sendRefusal, type Channel } from '../identifier.js';
import { checkCode, issueCode } from '../one-time-code-secret.js';
import { recordFailedSignIn } from '../failed-sign-in.js';

const methodOf = (channel: Channel): SignInMethod => ({
  id: channel === 'email' ? 'email_code' : 'sms_code',
  identifier: channel === 'email' ? 'email' : 'phone',
  // RFC 8176: `otp` plus the channel that carried it.
  amr: ['otp', channel],
  secondFactor: true,
  enabled: (app: AppRecord) => app.settings.login_methods.includes(channel === 'email' ? 'email_code' : 'sms_code'),
  views: ['login', 'code'],
});
export const emailCodeMethod = methodOf('email');
export const smsCodeMethod = methodOf('sms');
const methods: Record<Channel, SignInMethod> = { email: emailCodeMethod, sms: smsCodeMethod };

interface StoredCode {
  channel: Channel;
  identifier: string;
  /** Accounts the code signs in to; empty for an unknown identifier (then no code was sent). */
  accountIds: string[];
}

export const sendCodeForm = z.object({ identifier: identifierField, channel: z.enum(['email', 'sms']), password: z.string().optional() });
export const invalidSendCodeForm = (raw: Record<string, string>): Outcome => again({ error: 'sign-in:error.choose_method', identifier: raw.identifier?.slice(0, 320) });
export const typedCodeForm = z.object({ code: z.string().max(20) });

type Deps = Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors' | 'limiter' | 'messenger' | 'ephemeral' | 'lifetimes' | 'ipPerHour'>;

async function eligibleAccounts(app: AppRecord, deps: Deps, channel: Channel, identifier: string): Promise<AccountRecord[]> {
  const found = channel === 'email' ? await deps.accounts.findByEmail(app, identifier) : await deps.accounts.findByPhone(app, identifier);
  return found.filter(mayReceiveSignInMessages);
}

export async function sendCode(attempt: Attempt, deps: Deps, input: z.output<typeof sendCodeForm>): Promise<Outcome> {
  const { channel } = input;
  if (!methods[channel].enabled(attempt.app)) return invalidSendCodeForm(input);
  const identifier = parseIdentifier(input.identifier, channel);
  if (!identifier) return again({ error: INVALID_IDENTIFIER[channel], identifier: input.identifier });
  const waitingPage = attempt.state.otp?.identifier === identifier ? '/code' : '';
  const refused = await sendRefusal(attempt, deps, identifier, { noun: 'code', plural: 'codes', waitingPage });
  if (refused) return refused;

  const accounts = await eligibleAccounts(attempt.app, deps, channel, identifier);
  const stored: StoredCode = { channel, identifier, accountIds: accounts.map((a) => a.id) };
  // The code's record and the attempt's state are written together (one round trip); the message goes out only
  // once both are stored.
  const [code] = await Promise.all([
    issueCode(attempt, deps.ephemeral, 'otp', stored, deps.lifetimes.signInCode, { redeemable: accounts.length > 0 }),
    attempt.save({ otp: { identifier, channel, sentAt: Date.now() }, flash: undefined }),
  ]);
  if (accounts.length > 0) {
    // Not awaited: the answer must not take longer for a known identifier. send() never rejects.
    void deps.messenger.send(attempt.app, { channel, to: identifier, kind: 'sign_in_code', locals: { code }, locale: accounts[0].locale ?? attempt.language, brandTenant: attempt.brandTenant });
  }
  await deps.audit.record(attempt.app, 'sign_in.code_requested', { ip: attempt.ip, detail: { channel } });
  return go('/code');
}

export function codePage(attempt: Attempt, deps: Pick<Deps, 'lifetimes'>): Outcome {
  const otp = attempt.state.otp;
  if (!otp) return go('');
  return page('code', { title: 'sign-in:code.title', otp, validMinutes: Math.max(1, Math.round(deps.lifetimes.signInCode / 60)), resendIn: secondsUntilResend(otp.sentAt, deps.lifetimes.resendAfter) });
}

/**
 * An expired code's record is gone with its TTL, so the accounts it was for are found again from the identifier
 * the attempt asked a code for (only on this failure path; unknown identifiers are recorded without an account).
 */
async function recordExpiredCode(attempt: Attempt, deps: Deps): Promise<void> {
  const otp = attempt.state.otp;
  if (!otp) return;
  const accounts = await eligibleAccounts(attempt.app, deps, otp.channel, otp.identifier);
  await recordFailedSignIn(attempt, deps.audit, accounts.map((a) => a.id), { method: `${otp.channel}_code`, reason: 'code_expired' });
}

export async function verifyCode(attempt: Attempt, deps: Deps, input: { code: string }): Promise<Outcome> {
  // Single use: of two concurrent correct submissions, only the one that takes the record signs in.
  const check = await checkCode<StoredCode>(attempt, deps.ephemeral, 'otp', input.code, {
    ttlSeconds: deps.lifetimes.signInCode,
  });
  if (check.status === 'exhausted') return again({ error: 'sign-in:error.code_exhausted' }, '/code');
  if (check.status === 'expired') {
    await recordExpiredCode(attempt, deps);
    return again({ error: 'sign-in:error.code_expired' }, '/code');
  }
  if (check.status === 'wrong') {
    // Against the accounts the code was sent for: their sign-in history shows it.
    await recordFailedSignIn(attempt, deps.audit, check.stored.accountIds, { method: `${check.stored.channel}_code`, reason: 'wrong_code' });
    return again({ error: 'sign-in:error.code_wrong' }, '/code');
  }
  const { stored } = check;
  // Receiving the code proves control of the address (OIDC Core §5.1 email_verified / phone_number_verified).
  await Promise.all(stored.accountIds.map((id) => deps.accounts.markVerified(attempt.app, id, stored.channel)));
  return afterProof(attempt, deps, { accountIds: stored.accountIds, amr: [...methods[stored.channel].amr] }, 'redirect');
}
