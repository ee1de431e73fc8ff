import { Browser } from '../support/browser.js';
import { oidc, open, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let north: Rp;
let south: Rp;

beforeAll(async () => {
  server = await startServer();
  north = await setUpRp(server, 'north');
  south = await setUpRp(server, 'south');
  await server.admin.ok('POST', '/apps/north/accounts', { email: 'same@example.com', password: 'north-password' });
  await server.admin.ok('POST', '/apps/south/accounts', { email: 'same@example.com', password: 'south-password' });
});
afterAll(() => server.close());

describe('apps are isolated', () => {
  it('gives the same email a different sub in each app', async () => {
    const a = await signIn(north, new Browser(server.url), 'same@example.com', 'north-password');
    const b = await signIn(south, new Browser(server.url), 'same@example.com', 'south-password');
    expect(a.tokens.claims()!.sub).not.toBe(b.tokens.claims()!.sub);
    expect(a.tokens.claims()!.iss).not.toBe(b.tokens.claims()!.iss);
  });

  it("does not accept one app's password in the other", async () => {
    const browser = new Browser(server.url);
    const page = await open(browser, await south.begin());
    const after = await browser.submit(page, { identifier: 'same@example.com', password: 'north-password' }, { action: '/login', stopAt: REDIRECT_URI });
    expect(after.html).toContain('Invalid email or password');
  });

  it("refuses one app's access token at the other's userinfo (401)", async () => {
    const { tokens } = await signIn(north, new Browser(server.url), 'same@example.com', 'north-password');
    const res = await fetch(south.config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(res.status).toBe(401);
  });

  it("does not let one app's session satisfy prompt=none in the other", async () => {
    const browser = new Browser(server.url);
    await signIn(north, browser, 'same@example.com', 'north-password');
    expect(browser.cookieNames().every((c) => c.endsWith('@/apps/north'))).toBe(true);
    const flow = await south.begin({ prompt: 'none' });
    const page = await open(browser, flow);
    const callback = new URL(page.url);
    expect(callback.searchParams.get('error')).toBe('login_required');
  });

  it('signs ID tokens with different keys per app', async () => {
    const [a, b] = await Promise.all([north, south].map(async (rp) => (await fetch(rp.config.serverMetadata().jwks_uri!)).json()));
    const kids = (jwks: any) => jwks.keys.map((k: any) => k.kid);
    expect(kids(a).some((kid: string) => kids(b).includes(kid))).toBe(false);
    expect(oidc).toBeDefined();
  });
});
