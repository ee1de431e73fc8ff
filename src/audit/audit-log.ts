import { prefixedId } from '../crypto/random.js';
import type { AppRecord, AuditEvent, AuditRepository } from '../storage/ports.js';
import type { Logger } from '../log.js';

/**
 * Security events per app (sign-ins, failures, resets, admin changes): kept for support teams and written to the
 * log. Recording never fails the request that caused it.
 */
export class AuditLog {
  constructor(private readonly repo: AuditRepository, private readonly log: Logger) {}

  async record(app: AppRecord, type: string, event: Omit<Partial<AuditEvent>, 'appId' | 'id' | 'type' | 'createdAt'> = {}): Promise<void> {
    const entry: AuditEvent = { appId: app.id, id: prefixedId('evt'), type, createdAt: new Date(), ...event };
    this.log.info({ audit: type, app: app.slug, account: event.accountId, ip: event.ip, ...event.detail }, 'audit');
    try {
      await this.repo.add(entry);
    } catch (err) {
      this.log.warn({ err, audit: type }, 'audit event not stored');
    }
  }

  list(app: AppRecord, filter?: { accountId?: string; limit?: number }): Promise<AuditEvent[]> {
    return this.repo.list(app.id, filter);
  }
}

export function presentAuditEvent(e: AuditEvent) {
  return { id: e.id, type: e.type, account_id: e.accountId ?? null, ip: e.ip ?? null, detail: e.detail ?? {}, created_at: e.createdAt.toISOString() };
}
