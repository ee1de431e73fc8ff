/**
 * `npm start` on the embedded store, as a person runs it: the log prints the console's first operator and a random
 * password exactly once, and with them that person signs in to the console.
 */
import { spawnServer, type ServerProcess } from '../support/process.js';
import { Browser } from '../support/browser.js';

let server: ServerProcess;

beforeAll(async () => {
  server = await spawnServer({ PUBLIC_URL: '', ADMIN_API_KEY: '', MONGODB_URI: '', REDIS_URL: '' });
  for (const deadline = Date.now() + 10_000; !server.output().includes('Admin console ready') && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
}, 40_000);
afterAll(() => server.stop());

it('prints the first operator\'s password once, and it opens the console', async () => {
  const lines = server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const consoleLines = lines.filter((l) => l.console);
  expect(consoleLines).toHaveLength(1);
  const { email, password } = consoleLines[0];
  expect(email).toBe('admin@localhost');
  expect(server.output().split(password).length - 1).toBe(2); // the field and the sentence of that one line
  // The demo is still seeded next to the console (it seeds only an empty store, so it runs first).
  expect(server.output()).toContain('Demo ready');

  const origin = `http://localhost:${server.port}`;
  const browser = new Browser(origin);
  const login = await browser.follow('/console/login');
  const page = await browser.submit(login, { identifier: email, password }, { action: '/login' });
  expect(page.url).toBe(`${origin}/console`);
  expect(page.html).toContain('admin@localhost');
}, 30_000);
