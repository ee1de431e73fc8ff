/**
 * Sign-in with a one-time code sent by email or SMS (NIST SP 800-63B §5.1.3 out-of-band / §5.1.4 OTP):
 * 6 digits, stored hashed, valid 10 minutes, single use, bound to the interaction that asked for it, only the newest
 * code valid, at most 5 wrong tries per code, a new code at most every 30 s, and send caps per identifier and IP.
 * "Send me a code" answers the same whether or not the identifier belongs to an account: unknown, opted-out and
 * deactivated contacts simply get no message (OWASP ASVS V2.2, no enumeration).
 */
import { z } from 'zod';
import type { AccountRecord, EphemeralStore } from '../src/storage/ports.js';
import type { Messenger } from '../src/messaging/index.js';
import { readForm } from '../src/http/body.js';
import { LIMITS } from '../src/http/rate-limit.js';
import { TooManyRequestsError } from '../src/http/errors.js';
import { phoneSchema } from '../src/admin/schemas.js';
import { assertCsrf, otpOf, redirectTo, renderStep, retry, saveState, type Step } from './context.js';
import { continueSignIn } from './sign-in-sequence.js';
import type { LoginDeps } from './login.js';
import { checkCode, codeHash, newCode, secretKeys } from './one-time-secret.js';

export { CODE_MAX_WRONG_TRIES } from './one-time-secret.js';

export interface CodeDeps extends LoginDeps {
  messenger: Messenger;
  ephemeral: EphemeralStore;
}

export const CODE_TTL_SECONDS = 600;
export const RESEND_AFTER_SECONDS = 30;

type Channel = 'email' | 'sms';

interface StoredCode {
  hash: string;
  channel: Channel;
  identifier: string;
  /** Accounts the code signs in to; empty for an unknown identifier (then no code was sent). */
  accountIds: string[];
}

const sendForm = z.object({ _csrf: z.string().optional(), identifier: z.string().trim().min(1).max(320), channel: z.enum(['email', 'sms']), password: z.string().optional() });
const codeForm = z.object({ _csrf: z.string().optional(), code: z.string().max(20) });
const emailSchema = z.email().max(254);

/** Normalises what a person typed: an email address, or a phone number reduced to E.164. */
export function parseIdentifier(raw: string, channel: Channel): string | undefined {
  if (channel === 'email') return emailSchema.safeParse(raw.trim()).success ? raw.trim().toLowerCase() : undefined;
  const phone = raw.replace(/[\s().-]/g, '');
  return phoneSchema.safeParse(phone).success ? phone : undefined;
}

const PURPOSE = 'otp';
const keys = (step: Step) => secretKeys(step, PURPOSE);

function methodAllowed(step: Step, channel: Channel): boolean {
  return step.app.settings.login_methods.includes(channel === 'email' ? 'email_code' : 'sms_code');
}

async function eligibleAccounts(step: Step, deps: CodeDeps, channel: Channel, identifier: string): Promise<AccountRecord[]> {
  const found = channel === 'email' ? await deps.accounts.findByEmail(step.app, identifier) : await deps.accounts.findByPhone(step.app, identifier);
  return found.filter((a) => a.status === 'active' && !a.optedOut);
}

export async function sendCode(step: Step, deps: CodeDeps): Promise<void> {
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  const parsed = sendForm.safeParse(form);
  if (!parsed.success || !methodAllowed(step, parsed.data.channel)) {
    return retry(step, { error: 'Choose how you want to sign in.', identifier: form.identifier?.slice(0, 320) });
  }
  const { channel } = parsed.data;
  const identifier = parseIdentifier(parsed.data.identifier, channel);
  if (!identifier) {
    return retry(step, { error: channel === 'email' ? 'Enter a valid email address.' : 'Enter a phone number with its country code, such as +14155550123.', identifier: parsed.data.identifier });
  }
  const k = keys(step);
  const resending = otpOf(step)?.identifier === identifier;
  if (!(await deps.ephemeral.setIfAbsent(k.resend, 1, RESEND_AFTER_SECONDS))) {
    return retry(step, { error: `Please wait ${RESEND_AFTER_SECONDS} seconds before asking for another code.` }, resending ? `${step.basePath}/code` : step.basePath);
  }
  try {
    await deps.limiter.hit(step.app.id, LIMITS.sendsPerIp(deps.ipPerHour), step.ctx.state.ip);
    await deps.limiter.hit(step.app.id, LIMITS.sendsPerIdentifier, identifier);
  } catch (err) {
    if (!(err instanceof TooManyRequestsError)) throw err;
    return retry(step, { error: 'Too many codes were requested. Please try again later.', identifier }, step.basePath);
  }

  const accounts = await eligibleAccounts(step, deps, channel, identifier);
  const code = newCode();
  const stored: StoredCode = { hash: codeHash(step, PURPOSE, code), channel, identifier, accountIds: accounts.map((a) => a.id) };
  // A new code replaces the previous one (only the newest is valid) and starts its own count of wrong tries.
  await Promise.all([deps.ephemeral.set(k.code, stored, CODE_TTL_SECONDS), deps.ephemeral.delete(k.tries)]);
  if (accounts.length > 0) {
    // Not awaited: the answer must not take longer for a known identifier. send() never rejects.
    void deps.messenger.send(step.app, { channel, to: identifier, kind: 'sign_in_code', locals: { code }, locale: accounts[0].locale });
  }
  await deps.audit.record(step.app, 'sign_in.code_requested', { ip: step.ctx.state.ip, detail: { channel } });
  await saveState(step, { otp: { identifier, channel }, flash: undefined });
  redirectTo(step, `${step.basePath}/code`);
}

export function renderCodePage(step: Step): void {
  const otp = otpOf(step);
  if (!otp) return redirectTo(step, step.basePath);
  renderStep(step, 'code', { title: 'Enter your code', otp, resendAfter: RESEND_AFTER_SECONDS });
}

export async function verifyCode(step: Step, deps: CodeDeps): Promise<void> {
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  const here = `${step.basePath}/code`;
  const typed = codeForm.safeParse(form).data?.code ?? '';
  // Single use: of two concurrent correct submissions, only the one that takes the record signs in.
  const check = await checkCode<StoredCode>(step, deps.ephemeral, PURPOSE, typed, {
    ttlSeconds: CODE_TTL_SECONDS,
    redeemable: (s) => s.accountIds.length > 0,
  });
  if (check.status === 'exhausted') return retry(step, { error: 'This code can no longer be used. Ask for a new code.' }, here);
  if (check.status === 'expired') return retry(step, { error: 'This code has expired. Ask for a new code.' }, here);
  if (check.status === 'wrong') {
    await deps.audit.record(step.app, 'sign_in.failed', { ip: step.ctx.state.ip, detail: { method: `${check.stored.channel}_code` } });
    return retry(step, { error: 'That code is not right. Check it and try again.' }, here);
  }
  const { stored } = check;
  // Receiving the code proves control of the address (OIDC Core §5.1 email_verified / phone_number_verified).
  await Promise.all(stored.accountIds.map((id) =>
    deps.accounts.markVerified(step.app, id, stored.channel)));
  return continueSignIn(step, deps, { accountIds: stored.accountIds, amr: ['otp', stored.channel === 'email' ? 'email' : 'sms'], fresh: true }, 'redirect');
}
