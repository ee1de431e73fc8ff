/** `tenant=` on the authorization request: silent switches and unknown tenants. */
import { Browser } from '../support/browser.js';
import { open, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: Rp;
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, 'tenreq');
  for (const slug of ['acme', 'globex', 'initech']) ids[slug] = (await server.admin.ok('POST', '/apps/tenreq/tenants', { slug, name: slug.toUpperCase() })).id;
  ids.duo = (await server.admin.ok('POST', '/apps/tenreq/accounts', { email: 'duo@example.com', password: 'password-duo' })).id;
  await server.admin.ok('PUT', `/apps/tenreq/tenants/acme/members/${ids.duo}`, { roles: ['admin'] });
  await server.admin.ok('PUT', `/apps/tenreq/tenants/globex/members/${ids.duo}`, { roles: ['user'] });
});
afterAll(() => server.close());

async function signedInToAcme() {
  const browser = new Browser(server.url);
  const { tokens } = await signIn(rp, browser, 'duo@example.com', 'password-duo', { params: { tenant: 'acme' } });
  expect(tokens.claims()?.tenant_slug).toBe('acme');
  return browser;
}

async function silent(browser: Browser, params: Record<string, string>) {
  const flow = await rp.begin({ prompt: 'none', ...params });
  const page = await open(browser, flow);
  return { flow, callback: new URL(page.url) };
}

describe('tenant= with prompt=none', () => {
  it('switches silently to another tenant the person belongs to', async () => {
    const browser = await signedInToAcme();
    const { flow, callback } = await silent(browser, { tenant: 'globex' });
    expect(callback.searchParams.get('error')).toBeNull();
    const tokens = await rp.finish(flow, callback.href);
    expect(tokens.claims()).toMatchObject({ sub: ids.duo, tenant_slug: 'globex', roles: ['user'] });
    // The switch is recorded on the grant: a later silent request without tenant= stays on globex.
    const again = await silent(browser, {});
    expect((await rp.finish(again.flow, again.callback.href)).claims()?.tenant_slug).toBe('globex');
  });

  it('accepts the tenant id as well as the slug', async () => {
    const browser = await signedInToAcme();
    const { flow, callback } = await silent(browser, { tenant: ids.globex });
    expect((await rp.finish(flow, callback.href)).claims()?.tenant_slug).toBe('globex');
  });

  it('keeps the current tenant when the requested one exists but the person is not a member', async () => {
    const browser = await signedInToAcme();
    const { flow, callback } = await silent(browser, { tenant: 'initech' });
    expect((await rp.finish(flow, callback.href)).claims()?.tenant_slug).toBe('acme');
  });
});

describe('unknown tenant=', () => {
  it('redirects invalid_request "unknown tenant" to the relying party before any sign-in page', async () => {
    const flow = await rp.begin({ tenant: 'no-such-tenant' });
    const page = await open(new Browser(server.url), flow);
    const callback = new URL(page.url);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toBe('unknown tenant');
    expect(callback.searchParams.get('state')).toBe(flow.state);
  });

  it('answers the same in a signed-in session with prompt=none', async () => {
    const browser = await signedInToAcme();
    const { callback } = await silent(browser, { tenant: 'no-such-tenant' });
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toBe('unknown tenant');
  });
});
