/**
 * `GET /metrics` against a running server: valid Prometheus text (strict line check), counters that move after a
 * real sign-in, the bearer token when METRICS_TOKEN is set, and a separate listener with METRICS_PORT.
 */
import { Browser } from '../support/browser.js';
import { setUpRp, signIn } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { freePort, spawnServer } from '../support/process.js';
import { startReceiver } from '../support/webhook-receiver.js';
import { startRedisServer } from '../support/redis-server.js';

const TOKEN = 'metrics-token-0123456789';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { METRICS_TOKEN: TOKEN, WEBHOOK_POLL_MS: '25' } });
});
afterAll(() => server.close());

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABELS = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*")*)?\\}`;
// prom-client writes NaN as "Nan" (an empty event-loop histogram); Prometheus parses floats with Go's
// strconv.ParseFloat, which reads NaN in any case, so both spellings are valid samples.
const VALUE = '(?:[-+]?(?:\\d+(?:\\.\\d*)?(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?)|[-+]?Inf|NaN|Nan)';
const SAMPLE = new RegExp(`^(${METRIC_NAME})(${LABELS})? ${VALUE}(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${METRIC_NAME}) .*$`);
const TYPE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);

/** Parses the exposition format strictly: every line is empty, HELP, TYPE or a sample of a declared metric. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const declared = new Set<string>();
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  for (const line of lines) {
    if (line === '') continue; // the text format ignores empty lines
    const type = TYPE.exec(line);
    if (type) { declared.add(type[1]); continue; }
    if (HELP.test(line)) continue;
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a Prometheus line: ${JSON.stringify(line)}`);
    const family = sample[1].replace(/_(bucket|sum|count|total|created)$/, '');
    expect([line, declared.has(sample[1]) || declared.has(family) || declared.has(`${family}_total`)]).toEqual([line, true]);
    samples.set(`${sample[1]}${sample[2] ?? ''}`, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return samples;
}

async function scrape(base = server.url, token: string | undefined = TOKEN): Promise<Map<string, number>> {
  const res = await fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

describe('GET /metrics', () => {
  it('needs the bearer token when METRICS_TOKEN is set', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    await scrape();
  });

  it('exposes valid Prometheus text with the default process metrics and Portcullis metrics', async () => {
    const samples = await scrape();
    for (const name of ['process_cpu_user_seconds_total', 'nodejs_eventloop_lag_seconds', 'portcullis_webhook_queue_depth', 'portcullis_provider_pool_size']) {
      expect([name, samples.has(name)]).toEqual([name, true]);
    }
  });

  it('counts sign-ins by method and outcome, and HTTP requests by route class and status', async () => {
    const rp = await setUpRp(server, 'metered');
    await server.admin.ok('POST', '/apps/metered/accounts', { email: 'm@example.com', password: 'correct horse battery', email_verified: true });
    const before = await scrape();
    await expect(signIn(rp, new Browser(server.url), 'm@example.com', 'wrong horse battery')).rejects.toThrow();
    await signIn(rp, new Browser(server.url), 'm@example.com', 'correct horse battery');
    const after = await scrape();
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('portcullis_sign_ins_total{method="pwd",outcome="succeeded"}')).toBe(1);
    expect(delta('portcullis_sign_ins_total{method="password",outcome="failed"}')).toBe(1);
    expect(delta('portcullis_http_requests_total{route="token",method="POST",status="200"}')).toBe(1);
    expect(delta('portcullis_http_requests_total{route="admin",method="GET",status="200"}')).toBeGreaterThanOrEqual(0);
    expect(delta('portcullis_http_request_duration_seconds_count{route="authorize"}')).toBeGreaterThanOrEqual(2);
  });

  it('counts webhook attempts by outcome', async () => {
    const receiver = await startReceiver();
    try {
      await server.admin.ok('POST', '/apps', { slug: 'metered-hooks', name: 'Hooks' });
      await server.admin.ok('POST', '/apps/metered-hooks/webhooks', { url: receiver.url, events: ['tenant.created'] });
      const before = await scrape();
      await server.admin.ok('POST', '/apps/metered-hooks/tenants', { slug: 't', name: 'T' });
      await receiver.waitFor(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const after = await scrape();
      const key = 'portcullis_webhook_attempts_total{outcome="delivered"}';
      expect((after.get(key) ?? 0) - (before.get(key) ?? 0)).toBe(1);
    } finally {
      await receiver.close();
    }
  });
});

describe('provider pool and store metrics', () => {
  it('counts pool misses for a cold app and hits for a live one', async () => {
    await server.admin.ok('POST', '/apps', { slug: 'pooled', name: 'Pooled' });
    const discovery = () => fetch(`${server.url}/apps/pooled/.well-known/openid-configuration`).then((r) => r.status);
    const before = await scrape();
    expect(await discovery()).toBe(200);
    expect(await discovery()).toBe(200);
    const after = await scrape();
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('portcullis_provider_pool_misses_total')).toBeGreaterThanOrEqual(1);
    expect(delta('portcullis_provider_pool_hits_total')).toBeGreaterThanOrEqual(1);
    expect(after.has('portcullis_provider_pool_evictions_total')).toBe(true);
  });

  it('times Redis commands and counts the 503s answered while Redis is down', async () => {
    const redis = await startRedisServer({ restartable: true });
    if (!redis.owned) return void (await redis.close()); // an external REDIS_URL cannot be stopped
    const withRedis = await startServer({ env: { REDIS_URL: redis.url, METRICS_TOKEN: TOKEN, REQUEST_TIMEOUT_MS: '3000' } });
    try {
      await withRedis.admin.ok('POST', '/apps', { slug: 'timed', name: 'Timed' });
      const rp = await setUpRp(withRedis, 'timed-rp');
      await withRedis.admin.ok('POST', '/apps/timed-rp/accounts', { email: 't@example.com', password: 'correct horse battery', email_verified: true });
      await signIn(rp, new Browser(withRedis.url), 't@example.com', 'correct horse battery');
      const up = await scrape(withRedis.url);
      expect(up.get('portcullis_store_command_duration_seconds_count{store="redis",outcome="ok"}')).toBeGreaterThan(5);
      await redis.stop();
      const answers = [];
      for (let i = 0; i < 3; i += 1) {
        answers.push((await fetch(`${withRedis.url}/apps/timed-rp/auth?client_id=x`, { headers: { accept: 'application/json' } })).status);
      }
      expect(answers).toEqual([503, 503, 503]);
      const down = await scrape(withRedis.url);
      const errors = [...down].filter(([key]) => key.startsWith('portcullis_store_errors_total')).reduce((sum, [, v]) => sum + v, 0);
      expect(errors).toBeGreaterThanOrEqual(3);
    } finally {
      await withRedis.close();
      await redis.close();
    }
  }, 60_000);
});

describe('METRICS_PORT', () => {
  it('serves the metrics on their own port only', async () => {
    const metricsPort = await freePort();
    const processServer = await spawnServer({ METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn', SEED_DEMO: 'false' });
    try {
      expect((await fetch(`${processServer.url}/metrics`)).status).toBe(404);
      const samples = await scrape(`http://127.0.0.1:${metricsPort}`, undefined);
      expect(samples.has('portcullis_webhook_queue_depth')).toBe(true);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(404);
    } finally {
      await processServer.stop();
    }
  }, 60_000);
});
