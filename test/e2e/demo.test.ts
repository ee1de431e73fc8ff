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

describe('the admin API key on the console', () => {
  it('prints a generated key exactly once, and that key opens the Admin API', async () => {
    const lines = server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const keyLines = lines.filter((l) => l.adminKey);
    expect(keyLines).toHaveLength(1);
    const key: string = keyLines[0].adminKey;
    expect(key.length).toBeGreaterThanOrEqual(24);
    expect(server.output().split(key).length - 1).toBe(1);
    const res = await fetch(`${server.url}/admin/v1/apps`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
  });

  it('never prints a key the operator supplied', async () => {
    const supplied = 'operator-supplied-admin-key-0123456789';
    const own = await spawnServer({ PUBLIC_URL: '', ADMIN_API_KEY: supplied, MONGODB_URI: '', REDIS_URL: '' });
    try {
      // Wait for the demo line so everything start-up prints is in the output.
      for (const deadline = Date.now() + 10_000; !own.output().includes('Demo ready') && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
      expect(own.output()).toContain('Demo ready');
      expect(own.output()).not.toContain(supplied);
      expect(own.output()).not.toContain('adminKey');
      expect((await fetch(`${own.url}/admin/v1/apps`, { headers: { authorization: `Bearer ${supplied}` } })).status).toBe(200);
    } finally {
      await own.stop();
    }
  }, 40_000);
});
