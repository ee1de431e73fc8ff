/**
 * The sign-in history of an account: its last sign-in attempts, successful or not, read from the audit log
 * (`sign_in.succeeded` / `sign_in.failed` events recorded against the account by the sign-in core, and `mfa.failed`:
 * a wrong second factor after a right password).
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { AppRecord, AuditEvent } from '../storage/ports.js';
import { describeUserAgent, methodOfAmr } from './user-agent.js';

export const SIGN_IN_HISTORY_LENGTH = 50;

export interface SignInAttempt {
  id: string;
  at: Date;
  result: 'succeeded' | 'failed';
  /** `password`, `email_code`, `sms_code`, `magic_link`, `passkey`, `partner_link`, … */
  method: string;
  /** Failures only: `wrong_password`, `wrong_code`, `wrong_second_factor`. */
  reason?: string;
  ip?: string;
  browser?: string;
  os?: string;
  clientId?: string;
}

const REASONS: Record<string, string> = { invalid_credentials: 'wrong_password', wrong_code: 'wrong_code' };

export class SignInHistory {
  constructor(private readonly audit: AuditLog) {}

  /** Newest first, at most {@link SIGN_IN_HISTORY_LENGTH}. */
  async list(app: AppRecord, accountId: string): Promise<SignInAttempt[]> {
    // Two indexed queries (by account and type prefix) instead of one over every `sign_in.` event.
    const pages = await Promise.all(['sign_in.succeeded', 'sign_in.failed', 'mfa.failed'].map((typePrefix) =>
      this.audit.page(app, { accountId, typePrefix, limit: SIGN_IN_HISTORY_LENGTH })));
    return pages.flatMap((p) => p.items)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .slice(0, SIGN_IN_HISTORY_LENGTH)
      .map(toAttempt);
  }
}

function toAttempt(event: AuditEvent): SignInAttempt {
  const detail = event.detail ?? {};
  const succeeded = event.type === 'sign_in.succeeded';
  if (event.type === 'mfa.failed') {
    return { id: event.id, at: event.createdAt, result: 'failed', method: 'second_factor', reason: 'wrong_second_factor', ...(event.ip ? { ip: event.ip } : {}) };
  }
  const userAgent = typeof detail.user_agent === 'string' ? detail.user_agent : undefined;
  const reason = typeof detail.reason === 'string' ? REASONS[detail.reason] ?? detail.reason : undefined;
  return {
    id: event.id,
    at: event.createdAt,
    result: succeeded ? 'succeeded' : 'failed',
    method: succeeded ? methodOfAmr(String(detail.amr ?? '').split(' ').filter(Boolean)) : String(detail.method ?? 'unknown'),
    ...(!succeeded ? { reason: reason ?? 'failed' } : {}),
    ...(event.ip ? { ip: event.ip } : {}),
    ...describeUserAgent(userAgent),
    ...(typeof detail.client_id === 'string' ? { clientId: detail.client_id } : {}),
  };
}

export function presentSignInAttempt(attempt: SignInAttempt) {
  return {
    id: attempt.id,
    at: attempt.at.toISOString(),
    result: attempt.result,
    method: attempt.method,
    reason: attempt.reason ?? null,
    ip: attempt.ip ?? null,
    browser: attempt.browser ?? null,
    os: attempt.os ?? null,
    client_id: attempt.clientId ?? null,
  };
}
