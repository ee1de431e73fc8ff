/**
 * `offline_access` (OIDC Core §11): granted with prompt=consent, or to first-party clients; such
 * refresh tokens outlive the browser session. Refreshing with the originally requested scope (as Authlib and other
 * RPs do) works.
 */
import { Browser } from '../support/browser.js';
import { oidc, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let firstParty: Rp;
let thirdParty: Rp;
const SCOPE = 'openid email offline_access';

beforeAll(async () => {
  server = await startServer();
  firstParty = await setUpRp(server, 'offline', { first_party: true });
  thirdParty = await setUpRp(server, 'offline', { first_party: false });
  await server.admin.ok('POST', '/apps/offline/accounts', { email: 'o@example.com', password: 'offline-password' });
});
afterAll(() => server.close());

async function signOut(rp: Rp, browser: Browser, idToken: string) {
  const confirm = await browser.follow(oidc.buildEndSessionUrl(rp.config, { id_token_hint: idToken }).href);
  const done = await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });
  expect(done.html).toContain('You are signed out');
}

async function consentIfAsked(rp: Rp, browser: Browser, params: Record<string, string>) {
  const flow = await rp.begin(params);
  let page = await browser.follow(flow.url, 'https://rp.example.test/callback');
  if (page.html.includes('name="password"')) page = await browser.submit(page, { identifier: 'o@example.com', password: 'offline-password' }, { action: '/login', stopAt: 'https://rp.example.test/callback' });
  if (!page.url.startsWith('https://rp.example.test')) page = await browser.submit(page, {}, { action: '/consent', button: { name: 'decision', value: 'allow' }, stopAt: 'https://rp.example.test/callback' });
  return rp.finish(flow, page.url);
}

describe('offline_access', () => {
  it('is granted to a first-party client and refresh with the requested scope works (Authlib re-sends it)', async () => {
    const { tokens } = await signIn(firstParty, new Browser(server.url), 'o@example.com', 'offline-password', { params: { scope: SCOPE } });
    expect(tokens.scope?.split(' ')).toContain('offline_access');
    const refreshed = await oidc.refreshTokenGrant(firstParty.config, tokens.refresh_token!, { scope: SCOPE });
    expect(refreshed.scope?.split(' ')).toContain('offline_access');
    expect(refreshed.claims()?.email).toBe('o@example.com');
  });

  it('lets the refresh token outlive the session it came from', async () => {
    const browser = new Browser(server.url);
    const { tokens } = await signIn(firstParty, browser, 'o@example.com', 'offline-password', { params: { scope: SCOPE } });
    await signOut(firstParty, browser, tokens.id_token!);
    const refreshed = await oidc.refreshTokenGrant(firstParty.config, tokens.refresh_token!, { scope: SCOPE });
    expect(refreshed.access_token).toBeDefined();
  });

  it('without offline_access, ends the refresh token with the session', async () => {
    const browser = new Browser(server.url);
    const { tokens } = await signIn(firstParty, browser, 'o@example.com', 'offline-password', { params: { scope: 'openid email' } });
    expect(tokens.refresh_token).toBeDefined();
    await signOut(firstParty, browser, tokens.id_token!);
    await expect(oidc.refreshTokenGrant(firstParty.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('is granted to a third-party client with prompt=consent, not without', async () => {
    const withConsent = await consentIfAsked(thirdParty, new Browser(server.url), { scope: SCOPE, prompt: 'consent' });
    expect(withConsent.scope?.split(' ')).toContain('offline_access');
    expect((await oidc.refreshTokenGrant(thirdParty.config, withConsent.refresh_token!, { scope: SCOPE })).access_token).toBeDefined();

    const withoutConsent = await consentIfAsked(thirdParty, new Browser(server.url), { scope: SCOPE });
    expect(withoutConsent.scope?.split(' ')).not.toContain('offline_access');
  });

  it('is never granted to a client without the refresh_token grant', async () => {
    const noRefresh = await setUpRp(server, 'offline', { first_party: true, grant_types: ['authorization_code'] });
    const { tokens } = await signIn(noRefresh, new Browser(server.url), 'o@example.com', 'offline-password', { params: { scope: SCOPE } });
    expect(tokens.scope?.split(' ')).not.toContain('offline_access');
    expect(tokens.refresh_token).toBeUndefined();
  });
});
