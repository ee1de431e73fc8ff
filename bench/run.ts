/**
 * `npm run bench [-- MODE… | --apps N]`: Portcullis against a bare oidc-provider, measured in the same run.
 *
 * Every party is its own process: the Portcullis servers (embedded store; Redis store), the bare oidc-provider
 * peer, redis-server, the load generator / flow driver, and the argon2 floor. Targets are measured alternately,
 * BENCH_ALTERNATIONS times (default 3), and the table shows medians and the median of the per-alternation ratios,
 * so a noisy shared machine moves both sides of a ratio alike. CPU comes from /proc/<pid>/stat of the server
 * process, Redis commands and round trips from INFO deltas, RSS from /proc/<pid>/status.
 *
 * Modes: token, flows (default: both), apps, soak. See bench/README.md.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { spawnSync } from 'node:child_process';
import { freePort } from '../test/support/process.js';
import { cpuSeconds, median, round, rssMb, startChild, type Child } from './lib/proc.js';
import { startBenchRedis, type BenchRedis } from './lib/redis.js';
import { BARE_CLIENTS } from './servers/bare-clients.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ALTERNATIONS = Math.max(1, Number(process.env.BENCH_ALTERNATIONS ?? 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const FLOW_CONCURRENCY = Number(process.env.BENCH_FLOW_CONCURRENCY ?? 8);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const REDIRECT_URI = 'https://rp.example.test/callback';
const PASSWORD = 'bench-password';
const CODE_ACCOUNTS = Number(process.env.BENCH_CODE_ACCOUNTS ?? 1000);
/** A directory: the Portcullis servers then write V8 CPU profiles there (`node --cpu-prof`) when the bench ends. */
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const cpuProfArgs = () => (CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : []);

const args = process.argv.slice(2);
const appsFlag = args.indexOf('--apps');
const APPS = appsFlag >= 0 ? Number(args[appsFlag + 1]) : 10_000;
const modes = args.filter((a, i) => !a.startsWith('--') && !(appsFlag >= 0 && i === appsFlag + 1));
if (appsFlag >= 0 && !modes.includes('apps')) modes.push('apps');
if (modes.length === 0) modes.push('token', 'flows');
for (const mode of modes) if (!['token', 'flows', 'apps', 'soak'].includes(mode)) throw new Error(`unknown mode ${mode}: token, flows, apps, soak`);

const children: Child[] = [];
let redis: BenchRedis | undefined;
let driver: Child & { ready: { smtpPort: number } };
const markdown: string[] = [];

function machine(): string {
  const cpu = cpus();
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average at start ${load}`;
}

interface Target {
  name: string;
  child: Child;
  url: string;
  issuer: string;
  redis?: BenchRedis;
  m2m: { client_id: string; client_secret: string };
  web: { client_id: string; client_secret: string };
}

async function startPortcullis(name: string, env: Record<string, string> = {}): Promise<Target> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild('servers/portcullis.ts', {
    PORT: String(port), PUBLIC_URL: url, ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', SEED_DEMO: 'false',
    // Rate limits stay on (as in production); the per-IP budget is raised because every flow comes from 127.0.0.1.
    RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_IP_PER_HOUR: '100000000',
    // The code flows cycle through BENCH_CODE_ACCOUNTS addresses faster than the 30 s per-identifier resend wait
    // allows; the wait is still checked (one setIfAbsent per send), only shorter.
    RESEND_AFTER_SECONDS: '1',
    MESSAGING_MODE: 'deliver', SMTP_URL: `smtp://127.0.0.1:${driver.ready.smtpPort}`,
    ...env,
  }, ['--expose-gc', ...cpuProfArgs()]);
  children.push(child);
  const admin = (method: string, path: string, body?: unknown) => driver.ask({ cmd: 'admin', base: url, key: ADMIN_KEY, method, path, body });
  const { web, m2m } = await setUpApp(admin);
  return { name, child, url, issuer: `${url}/apps/bench`, web, m2m };
}

async function setUpApp(admin: (method: string, path: string, body?: unknown) => Promise<any>) {
  await admin('POST', '/apps', { slug: 'bench', name: 'Bench', settings: { login_methods: ['password', 'email_code'] } });
  const web = await admin('POST', '/apps/bench/clients', { name: 'web', redirect_uris: [REDIRECT_URI], first_party: true });
  const m2m = await admin('POST', '/apps/bench/clients', { name: 'm2m', redirect_uris: [REDIRECT_URI], grant_types: ['client_credentials'] });
  await admin('POST', '/apps/bench/accounts', { email: 'bench@example.com', password: PASSWORD });
  for (let i = 0; i < CODE_ACCOUNTS; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, CODE_ACCOUNTS - i) }, (_, j) => admin('POST', '/apps/bench/accounts', { email: `code-${i + j}@example.com` })));
  }
  return { web, m2m };
}

async function startBare(): Promise<Target> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild('servers/bare.ts', { PORT: String(port) }, ['--expose-gc', ...cpuProfArgs()]);
  children.push(child);
  return { name: 'bare oidc-provider', child, url, issuer: `${url}/apps/bare`, ...BARE_CLIENTS };
}

/** Runs `work` against `target` and returns its result with the server's (and redis-server's) CPU over it. */
async function measured<T extends { perSecond: number }>(target: Target, operations: (r: T) => number, work: () => Promise<T>) {
  const cpu0 = cpuSeconds(target.child.pid);
  const redisCpu0 = target.redis ? cpuSeconds(target.redis.pid).process : 0;
  const result = await work();
  const cpu1 = cpuSeconds(target.child.pid);
  const redisCpu1 = target.redis ? cpuSeconds(target.redis.pid).process : 0;
  const ops = Math.max(1, operations(result));
  return {
    ...result,
    cpuUs: ((cpu1.process - cpu0.process) / ops) * 1e6,
    mainCpuUs: ((cpu1.mainThread - cpu0.mainThread) / ops) * 1e6,
    redisCpuUs: ((redisCpu1 - redisCpu0) / ops) * 1e6,
  };
}

function tokenLoad(target: Target, seconds: number) {
  return driver.ask<{ perSecond: number; requests: number; non2xx: number; errors: number; p99: number; statusCodes?: unknown }>({
    cmd: 'load', url: `${target.issuer}/token`, seconds, connections: CONNECTIONS, body: 'grant_type=client_credentials',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${target.m2m.client_id}:${target.m2m.client_secret}`).toString('base64')}`,
    },
  }).then((r) => {
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${target.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors (${JSON.stringify(r.statusCodes)})`);
    return r;
  });
}

type Sample = { perSecond: number; cpuUs: number; mainCpuUs: number; redisCpuUs: number };

/** Alternates over the targets ALTERNATIONS times; returns each target's samples in order. */
async function alternate(targets: Array<{ key: string; run: () => Promise<Sample> }>): Promise<Map<string, Sample[]>> {
  const samples = new Map(targets.map((t) => [t.key, [] as Sample[]]));
  for (let round = 0; round < ALTERNATIONS; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) samples.get(t.key)!.push(await t.run());
    process.stderr.write(`  alternation ${round + 1}/${ALTERNATIONS} done\n`);
  }
  return samples;
}

/** Median of the per-alternation ratios a/b of one field. */
function ratio(a: Sample[], b: Sample[], field: keyof Sample): number {
  return median(a.map((s, i) => s[field] / b[i][field]));
}

function table(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const lines = [`**${title}**`, '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), ''];
  markdown.push(...lines);
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

async function tokenMode(embedded: Target, withRedis: Target, bare: Target): Promise<void> {
  process.stderr.write(`token mode: ${ALTERNATIONS} × ${SECONDS}s per target\n`);
  const targets = [embedded, withRedis, bare];
  const rss0 = targets.map((t) => rssMb(t.child.pid));
  for (const t of targets) await tokenLoad(t, 1); // warm-up: provider instance, JIT
  const samples = await alternate(targets.map((t) => ({ key: t.name, run: () => measured(t, (r) => r.requests, () => tokenLoad(t, SECONDS)) })));
  const rss1 = targets.map((t) => rssMb(t.child.pid));
  const b = samples.get(bare.name)!;
  table('client_credentials token requests', ['target', 'req/s (median)', 'ratio to bare', 'server CPU µs/req', 'CPU ratio to bare', 'redis-server CPU µs/req', 'RSS before → after (MB)'],
    targets.map((t, i) => {
      const s = samples.get(t.name)!;
      const self = t === bare;
      return [t.name, round(median(s.map((x) => x.perSecond))), self ? '1' : `**${round(ratio(s, b, 'perSecond'), 2)}×**`,
        round(median(s.map((x) => x.cpuUs))), self ? '1' : `${round(ratio(s, b, 'cpuUs'), 2)}×`,
        t.redis ? round(median(s.map((x) => x.redisCpuUs))) : '-', `${rss0[i]} → ${rss1[i]}`];
    }));
}

function flowRun(target: Target, kind: 'password' | 'code' | 'bare', seconds: number, concurrency: number, count?: number) {
  const accounts = kind === 'code' ? Array.from({ length: CODE_ACCOUNTS }, (_, i) => `code-${i}@example.com`) : ['bench@example.com'];
  return driver.ask<{ perSecond: number; flows: number; errors: number; firstError?: string }>({
    cmd: 'flows', seconds, concurrency, count,
    target: { kind, issuer: target.issuer, clientId: target.web.client_id, clientSecret: target.web.client_secret, accounts, password: PASSWORD },
  }).then((r) => {
    if (r.errors > 0) throw new Error(`${target.name} ${kind}: ${r.errors} failed flows: ${r.firstError}`);
    return r;
  });
}

async function argon2Floor(): Promise<Sample> {
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'bench/drivers/argon2-floor.ts', String(SECONDS), String(FLOW_CONCURRENCY)], { encoding: 'utf8', env: process.env });
  if (out.status !== 0) throw new Error(`argon2 floor failed: ${out.stderr}`);
  const { perSecond } = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
  return { perSecond, cpuUs: NaN, mainCpuUs: NaN, redisCpuUs: NaN };
}

/** Redis commands and round trips of single flows, run one at a time so no two flows share a socket read. */
async function redisPerFlow(target: Target, kind: 'password' | 'code'): Promise<{ commands: number; roundTrips: number; top: string }> {
  const r = target.redis!;
  const a = await r.counters();
  const b = await r.counters();
  const overhead = b.reads - a.reads; // reads caused by one counters() call itself
  const flows = 5;
  await flowRun(target, kind, 60, 1, flows);
  const c = await r.counters();
  const delta = Object.entries(c.byCommand).map(([k, v]) => [k, v - (b.byCommand[k] ?? 0)] as const).filter(([, v]) => v > 0).sort((x, y) => y[1] - x[1]);
  return {
    commands: round((c.commands - b.commands) / flows, 1),
    roundTrips: round((c.reads - b.reads - overhead) / flows, 1),
    top: delta.slice(0, 6).map(([k, v]) => `${k} ${round(v / flows, 1)}`).join(', '),
  };
}

async function flowsMode(embedded: Target, withRedis: Target, bare: Target): Promise<void> {
  process.stderr.write(`flows mode: ${ALTERNATIONS} × ${SECONDS}s per target, ${FLOW_CONCURRENCY} concurrent flows\n`);
  const targets = [embedded, withRedis, bare];
  const rss0 = targets.map((t) => rssMb(t.child.pid));
  for (const t of [embedded, withRedis]) { await flowRun(t, 'password', 30, 2, 4); await flowRun(t, 'code', 30, 2, 4); }
  await flowRun(bare, 'bare', 30, 2, 4);
  const redisPassword = await redisPerFlow(withRedis, 'password');
  const redisCode = await redisPerFlow(withRedis, 'code');
  const flow = (t: Target, kind: 'password' | 'code' | 'bare') => () => measured(t, (r) => r.flows, () => flowRun(t, kind, SECONDS, FLOW_CONCURRENCY));
  const samples = await alternate([
    { key: 'argon2', run: argon2Floor },
    { key: 'password embedded', run: flow(embedded, 'password') },
    { key: 'password redis', run: flow(withRedis, 'password') },
    { key: 'code embedded', run: flow(embedded, 'code') },
    { key: 'code redis', run: flow(withRedis, 'code') },
    { key: 'bare', run: flow(bare, 'bare') },
  ]);
  const rss1 = targets.map((t) => rssMb(t.child.pid));
  const floor = samples.get('argon2')!;
  const bareS = samples.get('bare')!;
  const row = (label: string, key: string, versus: 'argon2' | 'bare', rt?: { commands: number; roundTrips: number; top: string }) => {
    const s = samples.get(key)!;
    const ref = versus === 'argon2' ? floor : bareS;
    return [label, round(median(s.map((x) => x.perSecond)), 1), `**${round(ratio(s, ref, 'perSecond'), 2)}** of ${versus === 'argon2' ? 'argon2.verify/s' : 'bare flows/s'}`,
      round(median(s.map((x) => x.mainCpuUs)) / 1000, 2), round(median(s.map((x) => x.cpuUs)) / 1000, 2),
      rt ? `${rt.roundTrips} (${rt.commands} commands: ${rt.top})` : '-'];
  };
  table('sign-in flows (authorize → sign-in page(s) → code → token exchange)', ['flow', 'flows/s (median)', 'ratio', 'server main-thread CPU ms/flow', 'server process CPU ms/flow', 'Redis round trips / flow'], [
    ['argon2.verify floor (same params, same thread pool)', round(median(floor.map((x) => x.perSecond)), 1), '1', '-', '-', '-'],
    row('password, embedded', 'password embedded', 'argon2'),
    row('password, Redis', 'password redis', 'argon2', redisPassword),
    row('email code, embedded', 'code embedded', 'bare'),
    row('email code, Redis', 'code redis', 'bare', redisCode),
    ['bare oidc-provider, one-step interaction', round(median(bareS.map((x) => x.perSecond)), 1), '1', round(median(bareS.map((x) => x.mainCpuUs)) / 1000, 2), round(median(bareS.map((x) => x.cpuUs)) / 1000, 2), '-'],
  ]);
  table('server RSS over the flows mode', ['target', 'RSS before → after (MB)'], targets.map((t, i) => [t.name, `${rss0[i]} → ${rss1[i]}`]));
}

async function appsMode(): Promise<void> {
  process.stderr.write(`apps mode: creating ${APPS} apps\n`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild('servers/portcullis.ts', { PORT: String(port), PUBLIC_URL: url, ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', SEED_DEMO: 'false' }, ['--expose-gc']);
  children.push(child);
  const memory = () => child.ask<{ heapUsed: number; rss: number }>({ cmd: 'memory' });
  const m0 = await memory();
  const created = await driver.ask<{ created: number; seconds: number; perSecond: number }>({
    cmd: 'createApps', base: url, key: ADMIN_KEY, prefix: 'scale', count: APPS, concurrency: 8, maxSeconds: Number(process.env.BENCH_APPS_MAX_SECONDS ?? 1200),
  });
  const m1 = await memory();
  const sampleSize = Math.min(200, created.created);
  const step = Math.max(1, Math.floor(created.created / sampleSize));
  const slugs = Array.from({ length: sampleSize }, (_, i) => `scale-${i * step}`);
  const cold = await driver.ask<{ p50: number; p99: number }>({ cmd: 'discover', base: url, slugs });
  const m2 = await memory();
  const warm = await driver.ask<{ p50: number; p99: number }>({ cmd: 'discover', base: url, slugs });
  const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
  table(`apps scale (${created.created} of ${APPS} apps created)`, ['measure', 'value'], [
    ['apps created per second (Admin API, 8 concurrent)', round(created.perSecond, 1)],
    [`time to create ${APPS} apps at that rate`, `${round(APPS / created.perSecond / 60, 1)} min`],
    ['heap per app (after GC)', `${round((m1.heapUsed - m0.heapUsed) / created.created / 1024, 2)} KB`],
    ['heap, RSS after creating', `${mb(m1.heapUsed)} MB, ${mb(m1.rss)} MB`],
    [`cold app discovery + JWKS p50 / p99 (${sampleSize} apps)`, `${round(cold.p50, 2)} / ${round(cold.p99, 2)} ms`],
    ['warm app discovery + JWKS p50 / p99', `${round(warm.p50, 2)} / ${round(warm.p99, 2)} ms`],
    ['heap per live Provider (after GC)', `${round((m2.heapUsed - m1.heapUsed) / sampleSize / 1024, 1)} KB`],
  ]);
}

async function soakMode(): Promise<void> {
  process.stderr.write(`soak mode: ${SOAK_SECONDS}s of token load on the embedded store\n`);
  const target = await startPortcullis('Portcullis, embedded (soak)');
  await tokenLoad(target, 2);
  const points: Array<[number, number, number]> = [[0, rssMb(target.child.pid), 0]];
  const started = Date.now();
  let requests = 0;
  while (Date.now() - started < SOAK_SECONDS * 1000) {
    const chunk = Math.min(30, Math.ceil(SOAK_SECONDS - (Date.now() - started) / 1000));
    const r = await tokenLoad(target, chunk);
    requests += r.requests;
    points.push([Math.round((Date.now() - started) / 1000), rssMb(target.child.pid), Math.round(r.perSecond)]);
  }
  const first = points[1]?.[1] ?? points[0][1];
  const last = points.at(-1)![1];
  table(`soak: token load for ${SOAK_SECONDS}s on the embedded store (${requests} requests)`, ['t (s)', 'RSS (MB)', 'req/s in the last interval'], points.map((p) => [p[0], p[1], p[2] || '-']));
  table('soak summary', ['measure', 'value'], [
    ['RSS at start → after first 30 s → end', `${points[0][1]} → ${first} → ${last} MB`],
    ['RSS growth after the first interval', `${last - first} MB`],
    ['RSS growth from the first sample at ≥ 60 s to the end', `${last - (points.find((p) => p[0] >= 60)?.[1] ?? first)} MB`],
    ['max RSS', `${Math.max(...points.map((p) => p[1]))} MB`],
  ]);
}

async function main(): Promise<void> {
  const header = `Portcullis benchmark — ${machine()}; ${SECONDS}s per measure, ${ALTERNATIONS} alternations, ${CONNECTIONS} connections, ${FLOW_CONCURRENCY} concurrent flows`;
  process.stdout.write(`${header}\n`);
  markdown.push(header, '');
  driver = await startChild('drivers/driver.ts');
  children.push(driver);
  if (modes.includes('token') || modes.includes('flows')) {
    redis = await startBenchRedis();
    const embedded = await startPortcullis('Portcullis, embedded');
    const withRedis = { ...(await startPortcullis('Portcullis, Redis', { REDIS_URL: redis.url })), redis };
    const bare = await startBare();
    if (modes.includes('token')) await tokenMode(embedded, withRedis, bare);
    if (modes.includes('flows')) await flowsMode(embedded, withRedis, bare);
  }
  if (modes.includes('apps')) await appsMode();
  if (modes.includes('soak')) await soakMode();
}

try {
  await main();
} finally {
  for (const child of children.reverse()) await child.stop().catch(() => undefined);
  await redis?.close().catch(() => undefined);
}
process.exit(0);
