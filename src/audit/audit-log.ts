import { prefixedId } from '../crypto/random.js';
import type { AppRecord, AuditEvent, AuditQuery, AuditRepository } from '../storage/ports.js';
import type { Logger } from '../log.js';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor.js';

/** The app an event belongs to: an app record, or the Admin API's own scope (keys, app creation and deletion). */
export type AuditScope = Pick<AppRecord, 'id' | 'slug'>;

/** Events that concern no single app (Admin API keys, apps created or deleted) are kept under this scope. */
export const ADMIN_AUDIT_SCOPE: AuditScope = { id: '_admin', slug: '_admin' };

export type AuditInput = Omit<Partial<AuditEvent>, 'appId' | 'id' | 'type' | 'createdAt' | 'expiresAt'>;

/** Called with every stored event in the same step as the write (the webhook outbox). */
export type AuditFanOut = (scope: AuditScope, event: AuditEvent) => Promise<void>;

export interface AuditOptions {
  /** Events are kept this many days (AUDIT_RETENTION_DAYS). */
  retentionDays: number;
  fanOut?: AuditFanOut;
}

export interface AuditFilter extends Omit<AuditQuery, 'before' | 'limit'> {
  /** Cursor from a previous page's `next`. */
  after?: string;
  limit?: number;
}

export interface AuditPage {
  items: AuditEvent[];
  /** Cursor of the next page, or null on the last page. */
  next: string | null;
}

const MAX_PAGE = 200;

/**
 * Security events per app (sign-ins, failures, resets, admin changes): kept for support teams and written to the
 * log. Recording never fails the request that caused it. Every stored event is also handed to the fan-out (webhook
 * deliveries) in the same step, so each emitter produces both.
 */
export class AuditLog {
  private fanOut?: AuditFanOut;
  private readonly observers: Array<(event: AuditEvent) => void> = [];

  constructor(private readonly repo: AuditRepository, private readonly log: Logger, private readonly options: AuditOptions = { retentionDays: 365 }) {
    this.fanOut = options.fanOut;
  }

  /** Synchronous observers of every recorded event (metrics). They never fail the recording. */
  observe(observer: (event: AuditEvent) => void): void {
    this.observers.push(observer);
  }

  /** Connects the webhook outbox (the composition root builds it after the audit log, which it needs). */
  setFanOut(fanOut: AuditFanOut): void {
    this.fanOut = fanOut;
  }

  async record(app: AuditScope, type: string, event: AuditInput = {}): Promise<void> {
    const createdAt = new Date();
    const entry: AuditEvent = {
      appId: app.id, id: prefixedId('evt'), type, createdAt, ...withoutUndefined(event),
      expiresAt: new Date(createdAt.getTime() + this.options.retentionDays * 86_400_000),
    };
    this.log.info({ audit: type, app: app.slug, account: event.accountId, ip: event.ip, actor: event.actor, ...event.detail }, 'audit');
    // Both writes start in the same tick (the memory store completes both synchronously).
    const [stored, fannedOut] = await Promise.allSettled([this.repo.add(entry), this.fanOut?.(app, entry)]);
    if (stored.status === 'rejected') this.log.warn({ err: stored.reason, audit: type }, 'audit event not stored');
    if (fannedOut.status === 'rejected') this.log.error({ err: fannedOut.reason, audit: type }, 'webhook deliveries not stored');
    for (const observer of this.observers) {
      try {
        observer(entry);
      } catch (err) {
        this.log.warn({ err, audit: type }, 'audit observer failed');
      }
    }
  }

  list(app: AuditScope, filter?: { accountId?: string; limit?: number }): Promise<AuditEvent[]> {
    return this.repo.list(app.id, filter);
  }

  /** One page, newest first; `next` is the cursor of the following page. */
  async page(app: AuditScope, filter: AuditFilter): Promise<AuditPage> {
    const limit = Math.min(filter.limit ?? 50, MAX_PAGE);
    const { after, limit: _limit, ...rest } = filter;
    // One more than asked tells whether another page exists without a count.
    const found = await this.repo.query(app.id, { ...rest, limit: limit + 1, ...(after ? { before: decodeAuditCursor(after) } : {}) });
    const items = found.slice(0, limit);
    return { items, next: found.length > limit ? encodeAuditCursor(items[items.length - 1]) : null };
  }

  /** Every matching event, newest first, read page by page (for NDJSON export). */
  async *all(app: AuditScope, filter: Omit<AuditFilter, 'limit'>): AsyncGenerator<AuditEvent> {
    let after = filter.after;
    do {
      const page = await this.page(app, { ...filter, after, limit: MAX_PAGE });
      yield* page.items;
      after = page.next ?? undefined;
    } while (after);
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function presentAuditEvent(e: AuditEvent) {
  return {
    id: e.id, type: e.type, account_id: e.accountId ?? null, tenant_id: e.tenantId ?? null, ip: e.ip ?? null,
    actor: e.actor ?? null, detail: e.detail ?? {}, created_at: e.createdAt.toISOString(),
  };
}
