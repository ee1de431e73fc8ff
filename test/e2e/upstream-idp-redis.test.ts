/**
 * Upstream sign-in on Redis (what processes share): the interaction's pending state and the callback's single-use
 * `state` live in Redis, and two Portcullis processes share it — the person starts at one process and the upstream's
 * answer arrives at the other. Of 6 parallel deliveries of one callback, exactly one signs in.
 */
import { Browser, decode, type Page } from '../support/browser.js';
import { open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const PASSWORD = 'velvet-harbor-lantern-1893';
let redis: RedisServer;
let first: TestServer;
let second: TestServer;
let rp: Rp;

const onwardUrl = (page: Page) => decode(/<meta http-equiv="refresh" content="0; url=([^"]+)">/.exec(page.html)![1]);

beforeAll(async () => {
  redis = await startRedisServer();
  const secretsKey = Buffer.alloc(32, 9).toString('base64');
  first = await startServer({ env: { REDIS_URL: redis.url, SECRETS_KEY: secretsKey } });
  // The second process shares the first one's stores and PUBLIC_URL, as two processes behind one load balancer do.
  second = await startServer({ stores: first.stores, env: { REDIS_URL: redis.url, PUBLIC_URL: first.url, SECRETS_KEY: secretsKey } });
  rp = await setUpRp(first, 'portal');
  await first.admin.ok('POST', '/apps', { slug: 'idp', name: 'Corp Identity' });
  await first.admin.ok('POST', '/apps/idp/accounts', { email: 'nora@corp.example', password: PASSWORD, name: 'Nora', email_verified: true });
  const client = await first.admin.ok('POST', '/apps/idp/clients', { name: 'Portal', first_party: true, redirect_uris: [`${first.url}/apps/portal/connections/corp/callback`] });
  await first.admin.ok('POST', '/apps/portal/connections', { slug: 'corp', issuer: `${first.url}/apps/idp`, client_id: client.client_id, client_secret: client.client_secret, display_name: 'Corp ID' });
}, 60_000);
afterAll(async () => {
  await second.close();
  await first.close();
  await redis.close();
});

/** Signs in at the upstream; stops at the portal's callback URL. */
async function toCallback(browser: Browser): Promise<{ url: string; flow: Awaited<ReturnType<Rp['begin']>> }> {
  const flow = await rp.begin();
  const page = await open(browser, flow);
  const upstream = await browser.submit(page, {}, { action: '/connections/corp' });
  const stopped = await browser.submit(upstream, { identifier: 'nora@corp.example', password: PASSWORD }, { action: '/login', stopAt: `${first.url}/apps/portal/connections/corp/callback` });
  return { url: stopped.url, flow };
}

it('the upstream\'s answer may arrive at another process; the ID token has the provisioned account', async () => {
  const browser = new Browser(first.url);
  const { url, flow } = await toCallback(browser);
  const atSecond = url.replace(first.url, second.url);
  const continuePage = await browser.follow(atSecond);
  expect(continuePage.status).toBe(200);
  // This sign-in's own callback, at the second process too: the code is exchanged and the account made there.
  const back = await browser.follow(new URL(onwardUrl(continuePage), second.url).href, REDIRECT_URI);
  if (!back.url.startsWith(REDIRECT_URI)) throw new Error(`${back.status} ${back.url}\n${back.html.slice(0, 1500)}`);
  const tokens = await rp.finish(flow, back.url);
  const [account] = await first.admin.ok('GET', '/apps/portal/accounts?email=nora@corp.example');
  expect(tokens.claims()).toMatchObject({ sub: account.id, email: 'nora@corp.example', amr: ['fed'] });
});

it('of 6 parallel deliveries of one callback exactly one moves on', async () => {
  const browser = new Browser(first.url);
  const { url } = await toCallback(browser);
  const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => browser.request(i % 2 ? url.replace(first.url, second.url) : url)));
  const statuses = answers.map((r) => r.status).sort();
  expect(statuses).toEqual([200, 400, 400, 400, 400, 400]);
});

