import { Browser, choices } from '../support/browser.js';
import { choose, oidc, open, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: Rp;
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, 'msp');
  for (const [slug, name] of [['acme', 'Acme Ltd'], ['globex', 'Globex Corp']]) {
    ids[slug] = (await server.admin.ok('POST', '/apps/msp/tenants', { slug, name })).id;
  }
  ids.solo = (await server.admin.ok('POST', '/apps/msp/accounts', { email: 'solo@example.com', password: 'password-solo' })).id;
  ids.duo = (await server.admin.ok('POST', '/apps/msp/accounts', { email: 'duo@example.com', password: 'password-duo' })).id;
  await server.admin.ok('PUT', `/apps/msp/tenants/acme/members/${ids.solo}`, { roles: ['user'] });
  await server.admin.ok('PUT', `/apps/msp/tenants/acme/members/${ids.duo}`, { roles: ['company_admin', 'user'] });
  await server.admin.ok('PUT', `/apps/msp/tenants/${ids.globex}/members/${ids.duo}`, { roles: ['user'] });
});
afterAll(() => server.close());

describe('tenant selection and claims', () => {
  it('puts the only tenant and its roles in the ID token and userinfo without an extra scope', async () => {
    const { tokens } = await signIn(rp, new Browser(server.url), 'solo@example.com', 'password-solo', { params: { scope: 'openid' } });
    expect(tokens.claims()).toMatchObject({ sub: ids.solo, tenant_id: ids.acme, tenant_slug: 'acme', tenant_name: 'Acme Ltd', roles: ['user'] });
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, ids.solo);
    expect(info).toMatchObject({ tenant_slug: 'acme', roles: ['user'] });
  });

  it('shows the selection page for a two-tenant account; the choice reaches the ID token and survives refresh', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    let page = await open(browser, flow);
    page = await browser.submit(page, { identifier: 'duo@example.com', password: 'password-duo' }, { action: '/login', stopAt: REDIRECT_URI });
    expect(choices(page).map((c) => c.label)).toEqual(['Acme Ltd', 'Globex Corp']);
    page = await choose(browser, page, 'Globex Corp');
    const tokens = await rp.finish(flow, page.url);
    expect(tokens.claims()).toMatchObject({ tenant_id: ids.globex, tenant_slug: 'globex', tenant_name: 'Globex Corp', roles: ['user'] });
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect(refreshed.claims()).toMatchObject({ tenant_slug: 'globex', roles: ['user'] });
  });

  it('preselects with the tenant parameter', async () => {
    const { tokens } = await signIn(rp, new Browser(server.url), 'duo@example.com', 'password-duo', { params: { tenant: 'acme' } });
    expect(tokens.claims()).toMatchObject({ tenant_slug: 'acme', roles: ['company_admin', 'user'] });
  });

  it('switches tenant with prompt=select_account without asking for the password again', async () => {
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'duo@example.com', 'password-duo', { pick: ['Acme Ltd'] });
    const flow = await rp.begin({ prompt: 'select_account' });
    let page = await open(browser, flow);
    expect(page.html).not.toContain('name="password"');
    page = await choose(browser, page, 'Globex Corp');
    const tokens = await rp.finish(flow, page.url);
    expect(tokens.claims()).toMatchObject({ sub: ids.duo, tenant_slug: 'globex' });
  });

  it('switches tenant in an existing session when another tenant is requested', async () => {
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'duo@example.com', 'password-duo', { pick: ['Acme Ltd'] });
    const flow = await rp.begin({ tenant: 'globex' });
    const page = await open(browser, flow);
    expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(flow, page.url)).claims()).toMatchObject({ tenant_slug: 'globex' });
  });

  it('revokes the tenant\'s grants once the person has left it; the next sign-in carries no tenant claims', async () => {
    const account = await server.admin.ok('POST', '/apps/msp/accounts', { email: 'leaver@example.com', password: 'password-leaver' });
    await server.admin.ok('PUT', `/apps/msp/tenants/acme/members/${account.id}`, { roles: ['user'] });
    const browser = new Browser(server.url);
    const { tokens } = await signIn(rp, browser, 'leaver@example.com', 'password-leaver');
    expect(tokens.claims()!.tenant_slug).toBe('acme');
    await server.admin.call('DELETE', `/apps/msp/tenants/acme/members/${account.id}`);
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const again = await signIn(rp, browser, 'leaver@example.com', 'password-leaver');
    expect(again.tokens.claims()!.tenant_slug).toBeUndefined();
    expect(again.tokens.claims()!.roles).toBeUndefined();
  });
});
