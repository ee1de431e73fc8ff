/**
 * Password throttling that slows guessing without letting a stranger lock someone out (NIST SP 800-63B §5.2.2):
 * failures count per identifier and client IP, with a much higher ceiling per identifier from anywhere, and a
 * refusal answers 429 with Retry-After while the page stays friendly.
 */
import { Browser } from '../support/browser.js';
import { open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: Rp;
const PASSWORD = 'victim passphrase';

beforeAll(async () => {
  // Behind a trusted proxy, so each test browser can come from its own address.
  server = await startServer({ env: { TRUST_PROXY: 'true' } });
  rp = await setUpRp(server, 'keep');
});
afterAll(() => server.close());

/** One password attempt from a browser at `ip`: the page it ends on and the POST's own status and headers. */
async function attempt(ip: string, email: string, password: string) {
  const browser = new Browser(server.url, { 'x-forwarded-for': ip });
  const start = await open(browser, await rp.begin());
  const action = new URL(/action="([^"]*\/login)"/.exec(start.html)![1], start.url).href;
  const csrf = /name="_csrf" value="([^"]*)"/.exec(start.html)![1];
  const res = await browser.request(action, {
    method: 'POST',
    body: new URLSearchParams({ _csrf: csrf, identifier: email, password }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const html = await res.text();
  const location = res.headers.get('location');
  const landed = location ? await browser.follow(new URL(location, action).href, REDIRECT_URI) : undefined;
  return { status: res.status, retryAfter: res.headers.get('retry-after'), html, landed };
}

describe('password throttling', () => {
  it('after 10 failures from one address, refuses that address with 429 and Retry-After, but not the person elsewhere', async () => {
    await server.admin.ok('POST', '/apps/keep/accounts', { email: 'victim@keep.test', password: PASSWORD });
    for (let i = 0; i < 10; i++) {
      const wrong = await attempt('203.0.113.7', 'victim@keep.test', `wrong guess ${i}`);
      expect(wrong.status).toBe(303);
      expect(wrong.landed!.html).toContain('Invalid email or password');
    }
    const refused = await attempt('203.0.113.7', 'victim@keep.test', PASSWORD);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(15 * 60);
    expect(refused.html).toContain('Too many attempts');
    expect(refused.html).toContain('name="password"');

    // The victim, from their own browser and address, still signs in with the right password.
    const victim = await attempt('198.51.100.20', 'victim@keep.test', PASSWORD);
    expect(victim.status).toBe(303);
    expect(victim.landed!.url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('caps failures per identifier from anywhere at the NIST ceiling of 100, then refuses every address', async () => {
    await server.admin.ok('POST', '/apps/keep/accounts', { email: 'target@keep.test', password: PASSWORD });
    // 100 failures spread over 20 addresses (5 each, under the per-address limit).
    for (let i = 0; i < 100; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => attempt(`192.0.2.${(i + j) % 20}`, 'target@keep.test', 'wrong')));
    }
    const refused = await attempt('198.51.100.99', 'target@keep.test', PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.html).toContain('Too many attempts');
  });

  it('counts failures whether or not the identifier has an account (no enumeration by throttling)', async () => {
    for (let i = 0; i < 10; i++) await attempt('203.0.113.50', 'nobody@keep.test', 'wrong');
    const unknown = await attempt('203.0.113.50', 'nobody@keep.test', 'wrong');
    expect(unknown.status).toBe(429);
  });
});
