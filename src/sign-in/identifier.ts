/** What a person types as who they are: an email address, or a phone number reduced to E.164. */
import { z } from 'zod';
import { emailSchema, phoneSchema } from '../accounts/contact-schemas.js';
import { sha256 } from '../crypto/random.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import { LIMITS, type Exceeded, type Limit, type RateLimiter } from '../limits/rate-limiter.js';
import { again, type Attempt, type Outcome } from './attempt.js';
import type { SignInDeps } from './deps.js';
import { text, type Text } from '../i18n/text.js';

export type Channel = 'email' | 'sms';

/** A typed identifier, bounded before anything else looks at it. */
export const identifierField = z.string().trim().min(1).max(320);

/** Normalises what a person typed for a channel; undefined when it is not a valid address or number. */
export function parseIdentifier(raw: string, channel: Channel): string | undefined {
  if (channel === 'email') return emailSchema.safeParse(raw.trim()).success ? raw.trim().toLowerCase() : undefined;
  const phone = raw.replace(/[\s().-]/g, '');
  return phoneSchema.safeParse(phone).success ? phone : undefined;
}

export const INVALID_IDENTIFIER: Record<Channel, Text> = {
  email: 'sign-in:error.invalid_email',
  sms: 'sign-in:error.invalid_phone',
};

export function sendWaitKey(appId: string, identifier: string): string {
  return shortLivedKey(appId, 'send-wait', sha256(identifier.toLowerCase()));
}

/** Per-IP and per-identifier caps on sending codes and links (OWASP ASVS V2.2.1). */
function sendLimits(ipPerHour: number, ip: string | undefined, identifier: string): ReadonlyArray<readonly [Limit, string]> {
  return [[LIMITS.sendsPerIp(ipPerHour), ip ?? 'unknown'], [LIMITS.sendsPerIdentifier, identifier]];
}

/** The send caps alone (sends without a resend wait: registration, password reset); the exceeded limit, if any. */
export function limitSends(limiter: RateLimiter, appId: string, ipPerHour: number, ip: string | undefined, identifier: string): Promise<Exceeded | undefined> {
  return limiter.hitAll(appId, sendLimits(ipPerHour, ip, identifier));
}

/**
 * The gate before sending a code or link to `identifier`: the resend wait, per identifier rather than per page (two
 * browsers asking at once get one message), then the send caps; one step of the store, and a resend refused by the
 * wait spends no cap. Applies whether or not the identifier has an account. The refusal to show, or undefined when
 * sending may go ahead. `waitingPage` is where a refused resend lands (the page that shows the previous message,
 * when it went to the same identifier).
 */
export async function sendRefusal(
  attempt: Pick<Attempt, 'app' | 'ip'>,
  deps: Pick<SignInDeps, 'limiter' | 'lifetimes' | 'ipPerHour'>,
  identifier: string,
  what: { noun: 'code' | 'link'; plural: string; waitingPage: string },
): Promise<Outcome | undefined> {
  const { resendAfter } = deps.lifetimes;
  const gate = await deps.limiter.claimThenHitAll(attempt.app.id, { key: sendWaitKey(attempt.app.id, identifier), ttlSeconds: resendAfter }, sendLimits(deps.ipPerHour, attempt.ip, identifier));
  if (!gate.claimed) return again({ error: text(`sign-in:error.wait_${what.noun}`, { count: resendAfter }), identifier }, what.waitingPage);
  if (gate.exceeded) return again({ error: `sign-in:error.too_many_${what.noun}s`, identifier });
  return undefined;
}
