/** `npm start` on the embedded store: first log line, seeded demo app and the built-in demo relying party. */
import { Browser } from '../support/browser.js';
import { spawnServer, type ServerProcess } from '../support/process.js';

let server: ServerProcess;

beforeAll(async () => {
  server = await spawnServer({ PUBLIC_URL: '', ADMIN_API_KEY: '', MONGODB_URI: '', REDIS_URL: '' });
}, 40_000);
afterAll(() => server.stop());

it('says it runs on the embedded store in its first log line', () => {
  const first = JSON.parse(server.output().split('\n').find((l) => l.startsWith('{'))!);
  expect(first.msg).toContain('data is lost on restart; set MONGODB_URI / REDIS_URL for production');
});

it('seeds a demo app whose relying party signs in and shows tenant claims', async () => {
  const password = /"password":"([^"]+)"/.exec(server.output())![1];
  const browser = new Browser(`http://localhost:${server.port}`);
  let page = await browser.follow('/demo/login');
  expect(page.html).toContain('Sign in to Demo Portal');
  page = await browser.submit(page, { identifier: 'demo@example.com', password }, { action: '/login' });
  expect(page.url).toContain('/demo/callback');
  expect(page.html).toContain('tenant_slug');
  expect(page.html).toContain('company_admin');
}, 20_000);
