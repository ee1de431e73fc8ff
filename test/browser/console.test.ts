/**
 * The admin console in Debian's Chromium, clicked and typed as an operator does: the first operator signs in through
 * the console app's own OIDC flow, creates an app, a client app (whose secret is shown once), a tenant and an account,
 * invites someone and finds the invitation email in the app's outbox; a `viewer` is refused every change with the
 * 403 page. Every page is checked for CSP violations and failed requests, and for fitting a phone's width.
 */
import { arrive, expectNoProblems, focused, launchChromium, settle, openPage, screenshot, type BrowserPage, type Chromium } from '../support/chromium.js';
import { startServer, type TestServer } from '../support/server.js';
import { addOperator, startConsole, type FirstOperator } from '../console/console-support.js';

let server: TestServer;
let chromium: Chromium;
let first: FirstOperator;
let tab: BrowserPage;
const SLOW = 90_000;

beforeAll(async () => {
  server = await startServer();
  chromium = await launchChromium();
  first = await startConsole(server);
  await addOperator(server, 'reader@example.com', 'reader-password-1', 'viewer');
}, 60_000);
afterAll(async () => {
  await chromium?.close();
  await server?.close();
});
beforeEach(async () => {
  tab = await openPage(chromium);
});
afterEach(() => tab.close());

async function signIn(email: string, password: string): Promise<void> {
  await tab.page.goto(`${server.url}/console`);
  await tab.page.getByRole('link', { name: 'Sign in' }).click();
  await arrive(tab, `${server.url}/apps/console/interaction/`);
  await tab.page.locator('#identifier').fill(email);
  await tab.page.getByLabel('Password').fill(password);
  await tab.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await arrive(tab, `${server.url}/console`);
  await tab.page.getByRole('heading', { name: 'Apps' }).waitFor();
}

/** Nothing wider than the viewport (no sideways scrolling) at the current width. */
async function fitsWidth(): Promise<boolean> {
  return Boolean(await tab.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'));
}

describe('admin console in a real browser', () => {
  it('an owner creates an app, a client (secret once), a tenant and an account, and invites someone', async () => {
    await signIn(first.email, first.password);
    expect(await tab.page.locator('.console-signout').textContent()).toContain('admin@localhost');
    // Keyboard: the first Tab reaches "Skip to content", which shows itself and leads to the page's content.
    await tab.page.keyboard.press('Tab');
    expect(await tab.page.locator(':focus').textContent()).toBe('Skip to content');
    await tab.page.keyboard.press('Enter');
    expect(new URL(tab.page.url()).hash).toBe('#content');

    // App
    await tab.page.getByLabel('Slug').fill('harbour');
    await tab.page.getByLabel('Name').fill('Harbour Portal');
    await tab.page.getByRole('button', { name: 'Create app' }).click();
    await arrive(tab, `${server.url}/console/apps/harbour`);
    expect(await tab.page.locator('h1').textContent()).toBe('Harbour Portal');
    await tab.page.getByRole('button', { name: 'Rotate signing keys' }).click();
    await tab.page.getByText('New signing keys are in use.').waitFor();

    // Client app: the secret is on the page after creation, and never again
    await tab.page.getByRole('link', { name: 'Client apps' }).click();
    await tab.page.getByLabel('Name').fill('Harbour web');
    await tab.page.getByLabel('Redirect URIs', { exact: true }).fill('https://harbour.example/callback');
    await tab.page.getByRole('button', { name: 'Register client app' }).click();
    await tab.page.getByText('The client app is registered.').waitFor();
    const secret = await tab.page.getByLabel('Client secret').inputValue();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const clientId = (await tab.page.locator('#client-id').textContent())!;
    await screenshot(tab.page, 'console-client-secret');
    await tab.page.reload();
    expect(await tab.page.getByLabel('Client secret').count()).toBe(0);
    expect(await tab.page.content()).not.toContain(secret);
    // The secret works: the client gets a token with it (client_credentials is not enabled, so the answer is about the grant, not the secret)
    const token = await fetch(`${server.url}/apps/harbour/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(((await token.json()) as { error?: string }).error).not.toBe('invalid_client');

    // Tenant
    await tab.page.getByRole('link', { name: 'Tenants' }).click();
    await tab.page.getByLabel('Slug').fill('docks');
    await tab.page.getByLabel('Name').fill('Docks Ltd');
    await tab.page.getByRole('button', { name: 'Create tenant' }).click();
    await arrive(tab, `${server.url}/console/apps/harbour/tenants/docks`);
    // A refused form: the problem is announced and takes the focus, and what was typed is still there.
    await tab.page.getByRole('link', { name: 'Tenants' }).click();
    await tab.page.getByLabel('Slug').fill('docks');
    await tab.page.getByLabel('Name').fill('Docks again');
    await tab.page.getByRole('button', { name: 'Create tenant' }).click();
    await tab.page.getByRole('alert').waitFor();
    expect(await focused(tab.page)).toBe('#form-error');
    expect(await tab.page.getByLabel('Name').inputValue()).toBe('Docks again');

    // Account, then a member of the tenant
    await tab.page.getByRole('link', { name: 'Accounts' }).click();
    await tab.page.getByLabel('Email', { exact: true }).fill('skipper@example.com');
    await tab.page.getByLabel('Name').fill('Sam Skipper');
    await tab.page.getByRole('button', { name: 'Create account' }).click();
    await arrive(tab, `${server.url}/console/apps/harbour/accounts/`);
    expect(await tab.page.locator('#account-status').textContent()).toBe('Active');
    await tab.page.getByRole('link', { name: 'Accounts' }).click();
    await tab.page.getByLabel('Search by email').fill('Skipper@Example.com');
    await tab.page.getByRole('button', { name: 'Search', exact: true }).click();
    await tab.page.getByRole('link', { name: 'skipper@example.com' }).waitFor();

    // Invitation, and its email in the outbox
    await tab.page.getByRole('link', { name: 'Invitations' }).click();
    await tab.page.getByLabel('Email').fill('deckhand@example.com');
    await tab.page.getByLabel('Tenant (optional)').fill('docks');
    await tab.page.getByLabel('Roles').fill('user');
    await tab.page.getByRole('button', { name: 'Send invitation' }).click();
    await tab.page.getByText('The invitation was sent.').waitFor();
    expect(await tab.page.locator('table.list').textContent()).toContain('deckhand@example.com');
    await tab.page.getByRole('link', { name: 'Outbox' }).click();
    const outbox = (await tab.page.locator('main').textContent())!;
    expect(outbox).toContain('deckhand@example.com');
    expect(outbox).toMatch(/\/apps\/harbour\/invitation\//);

    // The audit log names the operator behind each change
    await tab.page.getByRole('link', { name: 'Audit log' }).click();
    const audit = (await tab.page.locator('table.list').textContent())!;
    expect(audit).toContain('client.created');
    expect(audit).toContain('tenant.created');
    expect(audit).toMatch(/console:acc_/);

    // Phone width: one column, nothing to scroll sideways
    await tab.page.setViewportSize({ width: 375, height: 800 });
    for (const page of ['/console', '/console/apps/harbour', '/console/apps/harbour/clients', '/console/apps/harbour/audit']) {
      await tab.page.goto(`${server.url}${page}`);
      expect(await fitsWidth()).toBe(true);
    }
    await screenshot(tab.page, 'console-audit-phone');

    // Sign out ends the console session and the provider's
    await tab.page.getByRole('button', { name: 'Sign out' }).click();
    await tab.page.waitForLoadState('load');
    const confirm = tab.page.getByRole('button', { name: /sign out|yes/i });
    if (await confirm.count()) await confirm.first().click();
    await arrive(tab, `${server.url}/console`);
    await tab.page.getByRole('link', { name: 'Sign in' }).waitFor();
    // Expected: the refused tenant's 409 (the browser reports it as a response and on its console), and favicon loads
    // cut short by the next navigation (quick clicking: the browser's own doing, not a page's fault).
    const expected = (p: { kind: string; text: string }) => (p.text.includes('409') && p.text.includes('/console/apps/harbour/tenants'))
      || (p.kind === 'requestfailed' && p.text.includes('/assets/favicon.svg: net::ERR_ABORTED'));
    await settle(tab.page);
    tab.problems.splice(0, tab.problems.length, ...tab.problems.filter((p) => !expected(p)));
    await expectNoProblems(tab);
  }, SLOW);

  it('an owner trusts a partner and adds an identity provider, then switches its button off', async () => {
    await server.admin.ok('POST', '/apps', { slug: 'marina', name: 'Marina' });
    await signIn(first.email, first.password);
    await tab.page.goto(`${server.url}/console/apps/marina`);

    await tab.page.getByRole('link', { name: 'Partners' }).click();
    await tab.page.getByLabel('Slug').fill('berths');
    await tab.page.getByLabel('Name', { exact: true }).fill('Berth bookings');
    await tab.page.getByLabel('Issuer (iss)').fill('https://berths.example');
    await tab.page.getByLabel('Shared secret (HS256, write-only)').fill('a-shared-secret-of-more-than-32-bytes');
    await tab.page.getByRole('button', { name: 'Add partner' }).click();
    await arrive(tab, `${server.url}/console/apps/marina/partners/berths`);
    await tab.page.getByText('The partner was added.').waitFor();
    expect(await tab.page.locator('#partner-sign-in-url').textContent()).toBe(`${server.url}/apps/marina/sso/berths`);
    expect(await tab.page.getByLabel('Shared secret (HS256, write-only)').inputValue()).toBe('');

    await tab.page.getByRole('link', { name: 'Identity providers' }).click();
    await tab.page.getByLabel('Slug').fill('quay');
    await tab.page.getByLabel('Button name').fill('Quay staff');
    await tab.page.getByLabel('Issuer', { exact: true }).fill('https://login.quay.example');
    await tab.page.getByLabel('Client ID').fill('marina-portal');
    await tab.page.getByLabel('Client secret (write-only)').fill('quay-client-secret');
    await tab.page.getByRole('button', { name: 'Add identity provider' }).click();
    await arrive(tab, `${server.url}/console/apps/marina/connections/quay`);
    expect(await tab.page.locator('#connection-redirect-uri').textContent()).toBe(`${server.url}/apps/marina/connections/quay/callback`);
    await tab.page.getByRole('link', { name: 'Identity providers' }).click();
    await tab.page.getByRole('button', { name: 'Disable Quay staff' }).click();
    await tab.page.getByText('The identity provider is disabled.').waitFor();
    expect((await server.admin.ok('GET', '/apps/marina/connections/quay')).enabled).toBe(false);

    await tab.page.setViewportSize({ width: 375, height: 800 });
    for (const page of ['/console/apps/marina/partners', '/console/apps/marina/partners/berths', '/console/apps/marina/connections', '/console/apps/marina/connections/quay']) {
      await tab.page.goto(`${server.url}${page}`);
      expect(await fitsWidth()).toBe(true);
    }
    await settle(tab.page);
    tab.problems.splice(0, tab.problems.length, ...tab.problems.filter((p) => !(p.kind === 'requestfailed' && p.text.includes('/assets/favicon.svg: net::ERR_ABORTED'))));
    await expectNoProblems(tab);
  }, SLOW);

  it('a viewer reads the console and gets the 403 page on any change', async () => {
    await server.admin.ok('POST', '/apps', { slug: 'lighthouse', name: 'Lighthouse' });
    await signIn('reader@example.com', 'reader-password-1');
    expect(await tab.page.getByRole('button', { name: 'Create app' }).count()).toBe(0);
    await tab.page.getByRole('link', { name: 'lighthouse' }).click();
    await arrive(tab, `${server.url}/console/apps/lighthouse`);
    expect(await tab.page.getByRole('button', { name: 'Save settings' }).count()).toBe(0);
    // A viewer who sends the form anyway (an old tab, a crafted page on the same origin): the 403 page.
    await tab.page.evaluate(`(() => { const f = document.createElement('form'); f.method = 'post'; f.action = '/console/apps';
      const c = document.createElement('input'); c.name = '_csrf'; c.value = document.querySelector('input[name=_csrf]').value; f.appendChild(c);
      const s = document.createElement('input'); s.name = 'slug'; s.value = 'sneaky'; f.appendChild(s); document.body.appendChild(f); f.submit(); })()`);
    await tab.page.waitForURL(`${server.url}/console/apps`);
    expect(await tab.page.locator('main').textContent()).toContain('Your console role only lets you read');
    expect((await server.admin.call('GET', '/apps/sneaky')).status).toBe(404);
  }, SLOW);
});
