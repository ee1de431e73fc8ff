/**
 * Prometheus metrics (prom-client) on a registry per Portcullis instance (several instances share a test process).
 * Sign-in and message counts derive from audit events, webhook counts from the delivery worker, HTTP counts from
 * one middleware; queue depth, pool size and Redis round trips are read when scraped.
 */
import client from 'prom-client';
import type { AuditEvent } from '../storage/ports.js';

export interface MetricsSources {
  /** Pending webhook deliveries (queue depth). */
  webhookQueueDepth(): Promise<number>;
  providerPoolSize(): number;
  providerPoolStats(): { hits: number; misses: number; evictions: number };
  redisRoundTrips(): number;
}

/** A dependency a request could not reach, or a store command's duration. */
export type StoreName = 'redis' | 'mongodb';

/** Provider endpoints by path below the app: the path, its subtree, the route class. */
const PROVIDER_ROUTES = ([
  ['/auth', 'authorize'], ['/token', 'token'], ['/me', 'userinfo'], ['/jwks', 'jwks'], ['/session/end', 'logout'],
  ['/token/introspection', 'introspection'], ['/token/revocation', 'revocation'], ['/interaction', 'interaction'],
] as const).map(([prefix, name]) => [prefix, `${prefix}/`, name] as const);

/** Bounded route classes: a label per path would be unbounded (slugs, ids). */
export function routeClass(path: string): string {
  if (path.startsWith('/admin/')) return 'admin';
  if (path === '/healthz' || path === '/readyz') return 'health';
  if (path === '/metrics') return 'metrics';
  if (path.startsWith('/assets/')) return 'assets';
  const app = /^\/apps\/[^/]+(\/.*)?$/.exec(path);
  if (!app) return 'other';
  const rest = app[1] ?? '/';
  if (rest.startsWith('/.well-known/')) return 'discovery';
  for (const [prefix, below, name] of PROVIDER_ROUTES) if (rest === prefix || rest.startsWith(below)) return name;
  return 'app_pages';
}

/** Bounded label values of `portcullis_store_errors_total` (ServiceUnavailableError's dependency). */
const UNAVAILABLE_LABELS = new Set(['redis', 'mongodb', 'storage', 'request deadline', 'partner keys']);

export class Metrics {
  readonly registry = new client.Registry();
  private readonly httpRequests: client.Counter<'route' | 'method' | 'status'>;
  private readonly httpDuration: client.Histogram<'route'>;
  private readonly rateLimited: client.Counter<'route'>;
  private readonly signIns: client.Counter<'method' | 'outcome'>;
  private readonly messages: client.Counter<'kind'>;
  private readonly webhookAttempts: client.Counter<'outcome'>;
  private readonly webhookLatency: client.Histogram;
  private readonly storeErrors: client.Counter<'store'>;
  private readonly storeLatency: client.Histogram<'store' | 'outcome'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new client.Counter({ name: 'portcullis_http_requests_total', help: 'HTTP requests by route class, method and status', labelNames: ['route', 'method', 'status'], registers });
    this.httpDuration = new client.Histogram({ name: 'portcullis_http_request_duration_seconds', help: 'HTTP request latency by route class', labelNames: ['route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.rateLimited = new client.Counter({ name: 'portcullis_rate_limit_rejections_total', help: 'Requests refused with 429 by a rate limit', labelNames: ['route'], registers });
    this.signIns = new client.Counter({ name: 'portcullis_sign_ins_total', help: 'Sign-ins by method and outcome', labelNames: ['method', 'outcome'], registers });
    this.messages = new client.Counter({ name: 'portcullis_sign_in_messages_total', help: 'Codes and links sent (or simulated) for sign-in', labelNames: ['kind'], registers });
    this.webhookAttempts = new client.Counter({ name: 'portcullis_webhook_attempts_total', help: 'Webhook delivery attempts by outcome (delivered, retry, failed)', labelNames: ['outcome'], registers });
    this.webhookLatency = new client.Histogram({ name: 'portcullis_webhook_attempt_duration_seconds', help: 'Webhook attempt latency', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    new client.Gauge({ name: 'portcullis_webhook_queue_depth', help: 'Pending webhook deliveries', registers,
      async collect() { this.set(await sources.webhookQueueDepth().catch(() => Number.NaN)); } });
    new client.Gauge({ name: 'portcullis_provider_pool_size', help: 'Provider instances held by the per-app pool', registers,
      collect() { this.set(sources.providerPoolSize()); } });
    const pool = (name: 'hits' | 'misses' | 'evictions', help: string) => new client.Counter({ name: `portcullis_provider_pool_${name}_total`, help, registers,
      collect() { this.reset(); this.inc(sources.providerPoolStats()[name]); } });
    pool('hits', 'Requests served by a live provider of the pool');
    pool('misses', 'Requests that read the app to build or re-check its provider');
    pool('evictions', 'Providers dropped to keep the pool within PROVIDER_POOL_SIZE');
    this.storeErrors = new client.Counter({ name: 'portcullis_store_errors_total', help: 'Requests answered 503 because a dependency was unreachable (redis, mongodb, storage: a store marked down, request_deadline)', labelNames: ['store'], registers });
    this.storeLatency = new client.Histogram({ name: 'portcullis_store_command_duration_seconds', help: 'Round-trip time of Redis and MongoDB commands', labelNames: ['store', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers });
    new client.Counter({ name: 'portcullis_redis_round_trips_total', help: 'Redis commands and transactions sent', registers,
      collect() { this.reset(); this.inc(sources.redisRoundTrips()); } });
  }

  observeRequest(path: string, method: string, status: number, seconds: number): void {
    const route = routeClass(path);
    this.httpRequests.inc({ route, method, status: String(status) });
    this.httpDuration.observe({ route }, seconds);
    if (status === 429) this.rateLimited.inc({ route });
  }

  /** The audit log's listener: sign-ins and sent codes/links. */
  observeAudit(event: AuditEvent): void {
    const detail = event.detail ?? {};
    if (event.type === 'sign_in.succeeded') this.signIns.inc({ method: String(detail.amr ?? 'unknown'), outcome: 'succeeded' });
    else if (event.type === 'sign_in.failed') this.signIns.inc({ method: String(detail.method ?? 'unknown'), outcome: 'failed' });
    else if (event.type === 'sign_in.code_requested') this.messages.inc({ kind: `${String(detail.channel ?? 'unknown')}_code` });
    else if (event.type === 'sign_in.link_requested') this.messages.inc({ kind: 'magic_link' });
  }

  observeWebhookAttempt(outcome: string, latencyMs: number): void {
    this.webhookAttempts.inc({ outcome });
    this.webhookLatency.observe(latencyMs / 1000);
  }

  /** A request failed because `store` was unreachable (counted where the 503 is answered). */
  observeStoreError(store: string): void {
    this.storeErrors.inc({ store: UNAVAILABLE_LABELS.has(store) ? store.replace(' ', '_') : 'other' });
  }

  observeStoreCommand(store: StoreName, seconds: number, ok: boolean): void {
    this.storeLatency.observe({ store, outcome: ok ? 'ok' : 'error' }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
