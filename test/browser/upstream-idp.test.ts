/**
 * "Continue with …" in real Chromium: the relying party on another origin, the downstream Portcullis, and the
 * upstream identity provider — a second Portcullis server (another origin again) with its own account and sign-in
 * page. The person clicks, types at the upstream, and lands on the relying party's page with the downstream
 * account's claims; nothing is refused or logged on the way (CSP form-action on every redirect of each form post,
 * cookies on the cross-site callback, failed requests). Home realm discovery is clicked through the same way.
 */
import { arrive, claim, expectNoProblems, launchChromium, openPage, screenshot, type BrowserPage, type Chromium } from '../support/chromium.js';
import { startAnotherOriginRp, type AnotherOriginRp } from '../support/another-origin-rp.js';
import { startServer, type TestServer } from '../support/server.js';

const SLUG = 'portal';
const UP = 'corp';
const PASSWORD = 'velvet-harbor-lantern-1893';
let portal: TestServer;
let idp: TestServer;
let chromium: Chromium;
let rp: AnotherOriginRp;
let tab: BrowserPage;
const SLOW = 60_000;

beforeAll(async () => {
  [portal, idp] = await Promise.all([startServer(), startServer()]);
  chromium = await launchChromium();
  await portal.admin.ok('POST', '/apps', { slug: SLUG, name: 'Northwind Client Portal' });
  rp = await startAnotherOriginRp(portal, SLUG);
  await idp.admin.ok('POST', '/apps', { slug: UP, name: 'Corp Identity' });
  await idp.admin.ok('POST', `/apps/${UP}/accounts`, { email: 'nora@corp.example', password: PASSWORD, name: 'Nora Upstream', email_verified: true });
  await idp.admin.ok('POST', `/apps/${UP}/accounts`, { email: 'carol@contoso.example', password: PASSWORD, name: 'Carol Contoso', email_verified: true });
  const callback = (slug: string) => `${portal.url}/apps/${SLUG}/connections/${slug}/callback`;
  // Only the portal's callbacks: the upstream's sign-in page lets its forms lead there (CSP form-action) and no
  // further, which the portal's callback page respects by starting a new navigation.
  const client = await idp.admin.ok('POST', `/apps/${UP}/clients`, {
    name: 'Northwind portal', first_party: true, redirect_uris: [callback('corp'), callback('contoso')],
  });
  const common = { issuer: `${idp.url}/apps/${UP}`, client_id: client.client_id, client_secret: client.client_secret };
  await portal.admin.ok('POST', `/apps/${SLUG}/connections`, { ...common, slug: 'corp', display_name: 'Corp ID' });
  await portal.admin.ok('POST', `/apps/${SLUG}/connections`, { ...common, slug: 'contoso', display_name: 'Contoso' });
  await portal.admin.ok('POST', `/apps/${SLUG}/tenants`, { slug: 'contoso', name: 'Contoso Ltd', connection: 'contoso', domains: ['contoso.example'] });
}, 60_000);
afterAll(async () => {
  await Promise.all([rp?.close(), chromium?.close()]);
  await Promise.all([portal?.close(), idp?.close()]);
});
beforeEach(async () => {
  tab = await openPage(chromium);
});
afterEach(async () => {
  await tab.close();
});

async function signInAtUpstream(email: string): Promise<void> {
  await arrive(tab, `${idp.url}/apps/${UP}/interaction/`);
  expect(await tab.page.locator('h1').textContent()).toBe('Sign in to Corp Identity');
  await tab.page.getByLabel('Email').fill(email);
  await tab.page.getByLabel('Password').fill(PASSWORD);
  await tab.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await arrive(tab, `${rp.url}/callback`);
}

describe('upstream identity providers in a real browser', () => {
  it('"Continue with Corp ID": signs in at the upstream and lands on the relying party with a new downstream account', async () => {
    await tab.page.goto(`${rp.url}/login`);
    await arrive(tab, `${portal.url}/apps/${SLUG}/interaction/`);
    await screenshot(tab.page, 'continue-with');
    await tab.page.getByRole('button', { name: 'Continue with Corp ID' }).click();
    await signInAtUpstream('nora@corp.example');
    expect(await tab.page.locator('h1').textContent()).toBe('Signed in to the portal');
    expect(await claim(tab.page, 'email')).toBe('nora@corp.example');
    expect(await claim(tab.page, 'name')).toBe('Nora Upstream');
    const [account] = await portal.admin.ok('GET', `/apps/${SLUG}/accounts?email=nora@corp.example`);
    expect(await claim(tab.page, 'sub')).toBe(account.id);
    await expectNoProblems(tab);
  }, SLOW);

  it('home realm discovery: a Contoso email and "Sign in" go to the tenant\'s IdP, and the ID token names the tenant', async () => {
    await tab.page.goto(`${rp.url}/login`);
    await arrive(tab, `${portal.url}/apps/${SLUG}/interaction/`);
    expect(await tab.page.getByRole('button', { name: 'Continue with Contoso' }).count()).toBe(0);
    await tab.page.getByLabel('Email').fill('carol@contoso.example');
    await tab.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await signInAtUpstream('carol@contoso.example');
    expect(await claim(tab.page, 'tenant_slug')).toBe('contoso');
    expect(await claim(tab.page, 'roles')).toContain('user');
    await expectNoProblems(tab);
  }, SLOW);
});
