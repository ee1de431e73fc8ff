/**
 * Sends the webhook outbox. Each tick claims due deliveries with a lease (so of several processes exactly one sends
 * each, and a crashed worker's claims are taken over when the lease expires), sends every claimed delivery once, and
 * settles it: 2xx is delivered; anything else is retried with exponential backoff and jitter (honouring
 * Retry-After) until the endpoint has failed for the disable window, when the endpoint is disabled and audited.
 * Every attempt times out; redirects are never followed (a redirect is a failure, not a new target: SSRF).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AppRecord, AppRepository, WebhookDelivery, WebhookDeliveryRepository, WebhookRepository } from '../storage/ports.js';
import type { WebhookService } from './webhook-service.js';
import { signatureHeaders } from './webhook-signer.js';
import { checkWebhookUrl, vettedAddress, type UrlPolicy } from './url-guard.js';
import { pinnedPost } from './pinned-post.js';

/** Backoff in units of the base delay (5 s by default): 5 s, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h, then 24 h. */
const SCHEDULE = [1, 6, 24, 120, 720, 2160, 4320, 8640, 17280];
const LEASE_MS = 60_000;
const BATCH = 20;

export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

export interface WorkerOptions {
  deliveries: WebhookDeliveryRepository;
  webhooks: WebhookRepository;
  apps: AppRepository;
  service: WebhookService;
  audit: AuditLog;
  policy: UrlPolicy;
  log: Logger;
  /** WEBHOOK_RETRY_BASE_MS: the first retry's delay (the schedule scales with it). */
  retryBaseMs: number;
  /** WEBHOOK_POLL_MS: how often due deliveries are looked for. */
  pollMs: number;
  /** WEBHOOK_TIMEOUT_MS: each attempt's time limit. */
  timeoutMs: number;
  /** WEBHOOK_DISABLE_AFTER_MS: an endpoint failing this long is disabled, and its undelivered events fail. */
  disableAfterMs: number;
  onAttempt?: (outcome: DeliveryOutcome, latencyMs: number) => void;
  /** After an endpoint was disabled (the composition root emails the app's admin contact). Errors are logged. */
  onDisabled?: (app: AppRecord, webhook: { id: string; url: string }, failingSince: Date) => Promise<void>;
}

/** The delay before attempt `attempts + 1`, with ±20 % jitter so retries of many receivers do not align. */
export function backoffMs(attempts: number, baseMs: number, random = Math.random): number {
  const units = SCHEDULE[Math.min(Math.max(attempts - 1, 0), SCHEDULE.length - 1)];
  return Math.round(units * baseMs * (0.8 + 0.4 * random()));
}

/** Retry-After (RFC 9110 §10.2.3) as milliseconds from now: delay-seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class DeliveryWorker {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private again = false;

  constructor(private readonly options: WorkerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for attempts in flight (each is bounded by the timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Deliveries were queued: look at once instead of at the next poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /** One round: claim, send, settle. Public so tests and tools can drive the worker step by step. */
  async tick(): Promise<number> {
    const claimed = await this.options.deliveries.claim(this.owner, new Date(), LEASE_MS, BATCH);
    await Promise.all(claimed.map((d) => this.attempt(d).catch((err) => this.options.log.error({ err, delivery: d.id }, 'webhook attempt failed'))));
    return claimed.length;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.loop().finally(() => {
        this.running = undefined;
        this.schedule(this.again ? 0 : this.options.pollMs);
        this.again = false;
      });
    }, delayMs);
    // The poll alone never keeps a process alive: the HTTP server does that, and shutdown stops the worker.
    this.timer.unref();
  }

  /** Ticks until a round finds nothing due (a full batch means more may be waiting). */
  private async loop(): Promise<void> {
    try {
      while (!this.stopped && (await this.tick()) === BATCH);
    } catch (err) {
      this.options.log.warn({ err }, 'webhook worker could not claim deliveries');
    }
  }

  private async attempt(delivery: WebhookDelivery): Promise<void> {
    const { webhooks, deliveries } = this.options;
    const webhook = await webhooks.find(delivery.appId, delivery.webhookId);
    const app = await this.options.apps.findById(delivery.appId);
    if (!webhook || !app) {
      await deliveries.settle(delivery.appId, delivery.id, this.owner, { status: 'failed', lastError: 'endpoint deleted' });
      return;
    }
    if (!webhook.enabled && delivery.type !== 'webhook.test') {
      await deliveries.settle(delivery.appId, delivery.id, this.owner, { status: 'failed', lastError: 'endpoint disabled' });
      return;
    }
    const started = Date.now();
    const result = await this.send(delivery, webhook.url, this.options.service.signingSecrets(webhook));
    const latency = Date.now() - started;
    const attempts = delivery.attempts + 1;
    const base = { attempts, lastLatencyMs: latency, lastStatusCode: result.status, lastError: result.error };
    if (result.ok) {
      await deliveries.settle(delivery.appId, delivery.id, this.owner, { ...base, status: 'delivered' });
      if (webhook.failingSince) await webhooks.update(webhook.appId, webhook.id, { failingSince: undefined });
      this.options.onAttempt?.('delivered', latency);
      return;
    }
    const now = Date.now();
    const failingSince = webhook.failingSince ?? new Date(started);
    if (!webhook.failingSince) await webhooks.update(webhook.appId, webhook.id, { failingSince });
    const failingTooLong = now - failingSince.getTime() >= this.options.disableAfterMs;
    const tooOld = now - delivery.createdAt.getTime() >= this.options.disableAfterMs;
    if (failingTooLong || tooOld) {
      await deliveries.settle(delivery.appId, delivery.id, this.owner, { ...base, status: 'failed' });
      if (failingTooLong && webhook.enabled) await this.disable(app, webhook, failingSince);
      this.options.onAttempt?.('failed', latency);
      return;
    }
    const wait = Math.max(backoffMs(attempts, this.options.retryBaseMs), Math.min(result.retryAfterMs ?? 0, this.options.disableAfterMs));
    await deliveries.settle(delivery.appId, delivery.id, this.owner, { ...base, status: 'pending', nextAttemptAt: new Date(now + wait) });
    this.options.onAttempt?.('retry', latency);
  }

  /** Disables a failing endpoint and records `webhook.disabled` (itself a webhook event for the other endpoints). */
  private async disable(app: AppRecord, webhook: { id: string; url: string }, failingSince: Date): Promise<void> {
    await this.options.webhooks.update(app.id, webhook.id, { enabled: false, disabledReason: 'failing' });
    await this.options.audit.record(app, 'webhook.disabled', { detail: { webhook_id: webhook.id, failing_since: failingSince.toISOString() } });
    this.options.log.warn({ app: app.slug, webhook: webhook.id }, 'webhook endpoint disabled after failing too long');
    await this.options.onDisabled?.(app, webhook, failingSince).catch((err) => this.options.log.warn({ err, app: app.slug }, 'admin contact not told of the disabled webhook'));
  }

  private async send(delivery: WebhookDelivery, target: string, secrets: string[]): Promise<{ ok: boolean; status?: number; error?: string; retryAfterMs?: number }> {
    try {
      const url = checkWebhookUrl(target, this.options.policy);
      const address = await vettedAddress(url, this.options.policy);
      const headers = {
        'content-type': 'application/json', 'user-agent': 'Portcullis-Webhooks/1',
        ...signatureHeaders(secrets, delivery.id, new Date(), delivery.payload),
      };
      const res = await pinnedPost(url, address, headers, delivery.payload, this.options.timeoutMs);
      const ok = res.status >= 200 && res.status < 300;
      return { ok, status: res.status, error: ok ? undefined : `HTTP ${res.status}`, retryAfterMs: retryAfterMs(res.retryAfter) };
    } catch (err) {
      const error = err instanceof Error
        ? (err.name === 'TimeoutError' ? 'timed out' : 'error_description' in err ? String(err.error_description) : err.message)
        : String(err);
      return { ok: false, error: error.slice(0, 300) };
    }
  }
}
