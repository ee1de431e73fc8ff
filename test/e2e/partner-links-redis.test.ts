/**
 * A partner link's jti is spent with the short-lived store's `setIfAbsent`: on Redis (what processes share) too, of 8
 * parallel clicks of one link exactly one signs in.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Browser } from '../support/browser.js';
import { setUpRp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const START = 'https://rp.example.test/start';
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';

let redis: RedisServer;
let server: TestServer;

beforeAll(async () => {
  redis = await startRedisServer();
  server = await startServer({ env: { REDIS_URL: redis.url } });
  const rp = await setUpRp(server, 'msp', { initiate_login_uri: START });
  await server.admin.ok('POST', '/apps/msp/partners', { slug: 'hub', name: 'Hub', issuer: 'https://hub.example', secret: SECRET, landing: { client_id: rp.clientId } });
});
afterAll(async () => {
  await server.close();
  await redis.close();
});

it('of 8 parallel clicks exactly one gets a session (Redis)', async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ iss: 'https://hub.example', aud: `${server.url}/apps/msp`, sub: 'u-1', email: 'redis@client.example', jti: randomUUID(), iat: now, exp: now + 70 })
    .setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
  const url = `${server.url}/apps/msp/sso/hub?token=${token}`;
  const pages = await Promise.all(Array.from({ length: 8 }, () => new Browser(server.url).follow(url, START)));
  expect(pages.filter((p) => p.url.startsWith(START))).toHaveLength(1);
  expect(pages.filter((p) => p.status === 400 && p.html.includes('This sign-in link was already used.'))).toHaveLength(7);
});
