/**
 * Webhook endpoints of an app and their durable outbox. `enqueue` is the audit log's fan-out: each stored audit event
 * that is a webhook event becomes one delivery per subscribed endpoint, written in one store call.
 */
import { prefixedId } from '../crypto/random.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { NotFoundError } from '../errors.js';
import type { AuditScope } from '../audit/audit-log.js';
import type { AppRecord, AuditEvent, WebhookDelivery, WebhookDeliveryRepository, WebhookRecord, WebhookRepository } from '../storage/ports.js';
import { decodeAuditCursor, encodeAuditCursor } from '../audit/audit-cursor.js';
import { subscribes, webhookBody, webhookTypeOf, type WebhookEventType } from './webhook-events.js';
import { newWebhookSecret } from './webhook-signer.js';
import { assertReachableHost, checkWebhookUrl, type UrlPolicy } from './url-guard.js';

/** A rotated-out secret keeps signing this long, so receivers can switch without losing a delivery. */
export const ROTATION_GRACE_MS = 24 * 3600_000;

export interface WebhookInput {
  url: string;
  events: string[];
  enabled?: boolean;
  description?: string;
}

export interface WebhookServiceDeps {
  webhooks: WebhookRepository;
  deliveries: WebhookDeliveryRepository;
  box: SecretBox;
  policy: UrlPolicy;
  /** Told when deliveries were queued, so the worker sends them at once instead of at its next poll. */
  onQueued?: () => void;
}

export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  async create(app: AppRecord, input: WebhookInput): Promise<{ webhook: WebhookRecord; secret: string }> {
    const url = await this.checkedUrl(input.url);
    const id = prefixedId('wh');
    const secret = newWebhookSecret();
    const now = new Date();
    const webhook: WebhookRecord = {
      appId: app.id, id, url, events: normalisedEvents(input.events), enabled: input.enabled ?? true,
      ...(input.description ? { description: input.description } : {}),
      secrets: [{ ciphertext: this.seal(app.id, id, secret), createdAt: now }], createdAt: now, updatedAt: now,
    };
    await this.deps.webhooks.create(webhook);
    return { webhook, secret };
  }

  list(app: AppRecord): Promise<WebhookRecord[]> {
    return this.deps.webhooks.list(app.id);
  }

  async require(app: AppRecord, id: string): Promise<WebhookRecord> {
    const webhook = await this.deps.webhooks.find(app.id, id);
    if (!webhook) throw new NotFoundError('No such webhook.');
    return webhook;
  }

  async update(app: AppRecord, id: string, patch: Partial<WebhookInput>): Promise<WebhookRecord> {
    await this.require(app, id);
    const url = patch.url === undefined ? undefined : await this.checkedUrl(patch.url);
    // Re-enabling starts a fresh failure window.
    const reenabled = patch.enabled === true ? { failingSince: undefined, disabledReason: undefined } : {};
    const updated = await this.deps.webhooks.update(app.id, id, {
      ...(url ? { url } : {}), ...(patch.events ? { events: normalisedEvents(patch.events) } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}), ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...reenabled,
    });
    if (!updated) throw new NotFoundError('No such webhook.');
    return updated;
  }

  async delete(app: AppRecord, id: string): Promise<void> {
    if (!(await this.deps.webhooks.delete(app.id, id))) throw new NotFoundError('No such webhook.');
    await this.deps.deliveries.deleteByWebhook(app.id, id);
  }

  /** A new secret; the previous one keeps signing for {@link ROTATION_GRACE_MS}, older ones are dropped. */
  async rotateSecret(app: AppRecord, id: string): Promise<{ webhook: WebhookRecord; secret: string }> {
    const webhook = await this.require(app, id);
    const now = new Date();
    const secret = newWebhookSecret();
    const previous = webhook.secrets.filter((s) => !s.expiresAt || s.expiresAt > now).slice(0, 1)
      .map((s) => ({ ...s, expiresAt: new Date(now.getTime() + ROTATION_GRACE_MS) }));
    const updated = await this.deps.webhooks.update(app.id, id, { secrets: [{ ciphertext: this.seal(app.id, id, secret), createdAt: now }, ...previous] });
    if (!updated) throw new NotFoundError('No such webhook.');
    return { webhook: updated, secret };
  }

  /** The secrets that sign now, newest first. */
  signingSecrets(webhook: WebhookRecord, now = new Date()): string[] {
    return webhook.secrets.filter((s) => !s.expiresAt || s.expiresAt > now)
      .map((s) => this.deps.box.open(s.ciphertext, `${webhook.appId}:${webhook.id}`));
  }

  /** The audit log's fan-out: one delivery per enabled, subscribed endpoint of the app. */
  async enqueue(scope: AuditScope, event: AuditEvent): Promise<void> {
    const type = webhookTypeOf(event.type);
    if (!type) return;
    const endpoints = (await this.deps.webhooks.list(scope.id)).filter((w) => w.enabled && subscribes(w.events, type));
    if (endpoints.length === 0) return;
    const body = webhookBody(type, scope, event);
    await this.deps.deliveries.addMany(endpoints.map((w) => delivery(w, event.id, type, body, event.createdAt)));
    this.deps.onQueued?.();
  }

  /** Queues a signed `webhook.test` event for one endpoint (even a disabled one: testing is how it gets fixed). */
  async sendTest(app: AppRecord, id: string): Promise<WebhookDelivery> {
    const webhook = await this.require(app, id);
    const now = new Date();
    const eventId = prefixedId('evt');
    const body = JSON.stringify({ type: 'webhook.test', timestamp: now.toISOString(), data: { event_id: eventId, app: app.slug, webhook_id: webhook.id } });
    const test = delivery(webhook, eventId, 'webhook.test', body, now);
    await this.deps.deliveries.addMany([test]);
    this.deps.onQueued?.();
    return test;
  }

  async deliveries(app: AppRecord, id: string, page: { after?: string; limit?: number }): Promise<{ items: WebhookDelivery[]; next: string | null }> {
    await this.require(app, id);
    const limit = Math.min(page.limit ?? 50, 200);
    const found = await this.deps.deliveries.list(app.id, id, { limit: limit + 1, ...(page.after ? { before: decodeAuditCursor(page.after) } : {}) });
    const items = found.slice(0, limit);
    return { items, next: found.length > limit ? encodeAuditCursor(items[items.length - 1]) : null };
  }

  /** Sends a delivery again now (pending, attempts kept), whatever its state. */
  async retry(app: AppRecord, id: string, deliveryId: string): Promise<WebhookDelivery> {
    await this.require(app, id);
    const found = await this.deps.deliveries.find(app.id, deliveryId);
    if (!found || found.webhookId !== id) throw new NotFoundError('No such delivery.');
    const updated = await this.deps.deliveries.update(app.id, deliveryId, { status: 'pending', nextAttemptAt: new Date() });
    this.deps.onQueued?.();
    return updated!;
  }

  private async checkedUrl(value: string): Promise<string> {
    const url = checkWebhookUrl(value, this.deps.policy);
    await assertReachableHost(url, this.deps.policy);
    return url.href;
  }

  private seal(appId: string, id: string, secret: string): string {
    return this.deps.box.seal(secret, `${appId}:${id}`);
  }
}

function normalisedEvents(events: string[]): string[] {
  return events.includes('*') ? ['*'] : [...new Set(events)];
}

function delivery(webhook: WebhookRecord, eventId: string, type: WebhookEventType, payload: string, at: Date): WebhookDelivery {
  return {
    appId: webhook.appId, id: prefixedId('msg'), webhookId: webhook.id, eventId, type, payload, status: 'pending',
    attempts: 0, nextAttemptAt: at, createdAt: at, updatedAt: at,
  };
}

export function presentWebhook(w: WebhookRecord) {
  return {
    id: w.id, url: w.url, events: w.events, enabled: w.enabled, description: w.description ?? null,
    disabled_reason: w.disabledReason ?? null, failing_since: w.failingSince?.toISOString() ?? null,
    created_at: w.createdAt.toISOString(), updated_at: w.updatedAt.toISOString(),
  };
}

export function presentDelivery(d: WebhookDelivery) {
  return {
    id: d.id, event_id: d.eventId, type: d.type, status: d.status, attempts: d.attempts,
    last_status_code: d.lastStatusCode ?? null, last_latency_ms: d.lastLatencyMs ?? null, last_error: d.lastError ?? null,
    next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null, created_at: d.createdAt.toISOString(),
  };
}
