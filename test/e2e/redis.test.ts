import { Redis } from 'ioredis';
import { Browser } from '../support/browser.js';
import { open, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
let server: TestServer;
let rp: Rp;
let inspect: Redis;

async function waitFor(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readyStatus = async () => (await fetch(`${server.url}/readyz`)).status;

beforeAll(async () => {
  redis = await startRedisServer({ restartable: true });
  server = await startServer({ env: { REDIS_URL: redis.url } });
  inspect = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  rp = await setUpRp(server, 'redis-app');
  await server.admin.ok('POST', '/apps/redis-app/accounts', { email: 'r@example.com', password: 'redis-password' });
});
afterAll(async () => {
  inspect.disconnect();
  await server.close();
  await redis.close();
});

describe('short-lived state in Redis', () => {
  it('keeps sessions, interactions, codes and tokens in Redis, every key with a TTL', async () => {
    await open(new Browser(server.url), await rp.begin());
    expect((await inspect.keys('*:Interaction:*')).length).toBe(1);
    await signIn(rp, new Browser(server.url), 'r@example.com', 'redis-password');
    const keys = await inspect.keys('*');
    const models = new Set(keys.map((k) => k.split(':')[2]));
    for (const model of ['Session', 'Interaction', 'AuthorizationCode', 'AccessToken']) expect(models).toContain(model);
    expect(keys.some((k) => k.includes(':Grant:') || k.includes(':RefreshToken:'))).toBe(false);
    const ttls = await Promise.all(keys.map((k) => inspect.ttl(k)));
    expect(ttls.filter((t) => t < 0)).toEqual([]);
  });

  it('answers 503 while Redis is down, stays up, and recovers by itself', async () => {
    expect(await readyStatus()).toBe(200);
    await redis.stop();
    await waitFor(async () => (await readyStatus()) === 503);
    const body: any = await (await fetch(`${server.url}/readyz`)).json();
    expect(body.checks.redis).toBe('down');

    const page = await new Browser(server.url).follow((await rp.begin()).url);
    expect(page.status).toBe(503);
    expect(page.html).toContain('temporarily unavailable');
    const api = await fetch(rp.config.serverMetadata().token_endpoint!, { method: 'POST', headers: { accept: 'application/json' } });
    expect(api.status).toBe(503);
    expect(((await api.json()) as any).error).toBe('temporarily_unavailable');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    await redis.start();
    await waitFor(async () => (await readyStatus()) === 200);
    const { tokens } = await signIn(rp, new Browser(server.url), 'r@example.com', 'redis-password');
    expect(tokens.claims()!.email).toBe('r@example.com');
  });
});
