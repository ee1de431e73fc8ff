/**
 * `npm run bench`: starts Portcullis itself (embedded store, then Redis) on loopback and measures
 * - client_credentials token requests per second (autocannon),
 * - full password sign-in flows per second (authorize → form → code → token, driven like a browser),
 * - Redis round trips per sign-in flow.
 * Every loop is bounded in time and count, and only talks to 127.0.0.1.
 */
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import * as oidc from 'openid-client';
import { Browser } from '../test/support/browser.js';
import { startServer, type TestServer } from '../test/support/server.js';
import { startRedisServer } from '../test/support/redis-server.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FLOW_CONCURRENCY = Number(process.env.BENCH_FLOW_CONCURRENCY ?? 8);
const REDIRECT_URI = 'https://rp.example.test/callback';

async function setUp(server: TestServer) {
  await server.admin.ok('POST', '/apps', { slug: 'bench', name: 'Bench' });
  const web = await server.admin.ok('POST', '/apps/bench/clients', { name: 'web', redirect_uris: [REDIRECT_URI], first_party: true });
  const m2m = await server.admin.ok('POST', '/apps/bench/clients', { name: 'm2m', redirect_uris: [REDIRECT_URI], grant_types: ['client_credentials'] });
  await server.admin.ok('POST', '/apps/bench/accounts', { email: 'bench@example.com', password: 'bench-password' });
  const issuer = new URL(`${server.url}/apps/bench`);
  const config = await oidc.discovery(issuer, web.client_id, web.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  return { config, m2m };
}

async function clientCredentials(server: TestServer, m2m: { client_id: string; client_secret: string }): Promise<number> {
  const result = await autocannon({
    url: `${server.url}/apps/bench/token`,
    method: 'POST',
    connections: 16,
    duration: SECONDS,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${m2m.client_id}:${m2m.client_secret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  if (result.non2xx > 0) throw new Error(`client_credentials: ${result.non2xx} non-2xx answers`);
  return result.requests.average;
}

async function oneFlow(server: TestServer, config: oidc.Configuration): Promise<void> {
  const browser = new Browser(server.url);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const page = await browser.follow(url.href, REDIRECT_URI);
  const back = await browser.submit(page, { identifier: 'bench@example.com', password: 'bench-password' }, { action: '/login', stopAt: REDIRECT_URI });
  await oidc.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: verifier, idTokenExpected: true });
}

async function flows(server: TestServer, config: oidc.Configuration): Promise<number> {
  const deadline = Date.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: FLOW_CONCURRENCY }, async () => {
    while (Date.now() < deadline && done < 1_000_000) {
      await oneFlow(server, config);
      done += 1;
    }
  }));
  return done / SECONDS;
}

async function measure(label: string, env: Record<string, string>) {
  const server = await startServer({ env: { RATE_LIMIT_ENABLED: 'false', ...env } });
  try {
    const { config, m2m } = await setUp(server);
    await oneFlow(server, config); // warm up: provider instance, keys, JIT
    const before = server.stores.redisRoundTrips();
    await oneFlow(server, config);
    const roundTrips = server.stores.redisRoundTrips() - before;
    const tokens = await clientCredentials(server, m2m);
    const signIns = await flows(server, config);
    return { store: label, 'client_credentials req/s': Math.round(tokens), 'sign-in flows/s': Math.round(signIns * 10) / 10, 'Redis round trips / flow': env.REDIS_URL ? roundTrips : '-' };
  } finally {
    await server.close();
  }
}

const rows = [await measure('embedded', {})];
const redis = await startRedisServer();
try {
  rows.push(await measure('redis', { REDIS_URL: redis.url }));
} finally {
  await redis.close();
}
console.log(`\nPortcullis benchmark: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${SECONDS}s per measure`);
console.table(rows);
process.exit(0);
