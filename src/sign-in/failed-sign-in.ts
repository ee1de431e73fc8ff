/**
 * A failed sign-in in the audit log: once per account the typed identifier belongs to, so that each account's
 * sign-in history shows it (one email or phone may be several accounts, and the attempt was against all of them), or
 * once without an account for an unknown identifier. The typed identifier itself is never recorded (OWASP ASVS
 * V7.1.1: no credentials in logs).
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Attempt } from './attempt.js';

export type FailedSignInReason = 'invalid_credentials' | 'wrong_code' | 'code_expired';

export async function recordFailedSignIn(
  attempt: Pick<Attempt, 'app' | 'ip' | 'userAgent'>,
  audit: Pick<AuditLog, 'record'>,
  accountIds: readonly string[],
  detail: { method: string; reason: FailedSignInReason },
): Promise<void> {
  const event = { ip: attempt.ip, detail: { ...detail, user_agent: attempt.userAgent } };
  if (accountIds.length === 0) return audit.record(attempt.app, 'sign_in.failed', event);
  await Promise.all(accountIds.map((accountId) => audit.record(attempt.app, 'sign_in.failed', { ...event, accountId })));
}
