/**
 * On a real store (Redis) the console's first operator gets no password in a log: an invitation, in the console
 * app's outbox. Accepting it (setting a password) lets them sign in to the console as its owner.
 */
import { startServer, type TestServer } from '../support/server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { Browser } from '../support/browser.js';
import { lastMessage } from '../support/outbox.js';
import { addOperator, signIn } from './console-support.js';

let redis: RedisServer;
/** Shared by both processes, as in a deployment (the console client's secret is stored encrypted with it). */
const SECRETS_KEY = 'ab'.repeat(32);
let server: TestServer;

beforeAll(async () => {
  redis = await startRedisServer({ restartable: true });
  server = await startServer({ env: { REDIS_URL: redis.url, SECRETS_KEY, CONSOLE_ADMIN_EMAIL: 'first-operator@example.com' } });
  // A shared Redis may hold a console app of an earlier run: this test is about the very first start.
  if ((await server.admin.call('GET', '/apps/console')).status === 200) await server.admin.ok('DELETE', '/apps/console');
}, 30_000);
afterAll(async () => {
  await server?.close();
  await redis?.close();
});

it('invites the first operator, who accepts and signs in as owner', async () => {
  // Two processes on one store start at the same moment: both come up, one console app, one first operator.
  const other = await startServer({ stores: server.stores, env: { PUBLIC_URL: server.url, REDIS_URL: redis.url, SECRETS_KEY, CONSOLE_ADMIN_EMAIL: 'first-operator@example.com' } });
  const setups = await Promise.all([server.portcullis.console.start(), other.portcullis.console.start()]);
  await other.close();
  expect(setups[0].app.id).toBe(setups[1].app.id);
  const announced = setups.filter((s) => s.firstOperator);
  expect(announced).toHaveLength(1);
  const { firstOperator } = announced[0];
  expect(firstOperator).toEqual({ email: 'first-operator@example.com', invitationId: expect.stringMatching(/^inv_/) });
  const message = await lastMessage(server, 'console', 'first-operator@example.com');
  const link = /https?:\/\/\S+\/apps\/console\/invitation\/\S+/.exec(message.text)![0];

  const browser = new Browser(server.url);
  const invitation = await browser.follow(link);
  expect(invitation.status).toBe(200);
  await browser.submit(invitation, { new_password: 'first-operator-pw', new_password_confirm: 'first-operator-pw' });

  const { page } = await signIn(server, 'first-operator@example.com', 'first-operator-pw');
  expect(page.url).toBe(`${server.url}/console`);
  expect(page.html).toContain('first-operator@example.com');
  expect(page.html).toContain('(Owner)');
}, 30_000);

it('answers 503 while the store is down, and works again when it is back', async () => {
  const { browser, page } = await signIn(server, 'first-operator@example.com', 'first-operator-pw');
  expect(page.status).toBe(200);
  await redis.stop();
  try {
    for (const deadline = Date.now() + 5000; server.stores.available() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
    const down = await browser.follow('/console/apps/console');
    expect(down.status).toBe(503);
    expect(down.html).toContain('temporarily_unavailable');
  } finally {
    await redis.start();
  }
  for (const deadline = Date.now() + 10_000; !server.stores.available() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
  // The restarted Redis is empty (no persistence): the session is gone, and the console says so instead of failing.
  const back = await browser.follow('/console');
  expect(back.status).toBe(200);
  expect(back.html).toContain('href="/console/login"');
}, 30_000);

it('gives the console client a new secret when SECRETS_KEY changed, and sign-in still works', async () => {
  const otherKey = await startServer({ stores: server.stores, env: { REDIS_URL: redis.url, SECRETS_KEY: 'cd'.repeat(32) } });
  try {
    const setup = await otherKey.portcullis.console.start();
    expect(setup.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await addOperator(otherKey, 'key-change@example.com', 'key-change-password', 'admin');
    const { page } = await signIn(otherKey, 'key-change@example.com', 'key-change-password');
    expect(page.url).toBe(`${otherKey.url}/console`);
    expect(page.html).toContain('key-change@example.com');
  } finally {
    await otherKey.close();
  }
});
