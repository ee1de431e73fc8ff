/**
 * The account center in real Chromium: signing in through the app's own sign-in page, then changing the profile,
 * making a support PIN and signing another session out by clicking, as a person does. Proves what the fetch browser
 * cannot: the 303s after each form post pass the pages' CSP (`form-action`), the cookies are accepted, and nothing
 * is refused or logged on the way.
 */
import { arrive, expectNoProblems, launchChromium, openPage, screenshot, styled, type BrowserPage, type Chromium } from '../support/chromium.js';
import { Browser } from '../support/browser.js';
import { setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

const SLUG = 'center-browser';
const PASSWORD = 'velvet-harbor-lantern-1893';
const SLOW = 60_000;
let server: TestServer;
let chromium: Chromium;
let rp: Rp;
let tab: BrowserPage;
let accountId: string;

beforeAll(async () => {
  server = await startServer();
  chromium = await launchChromium();
  await server.admin.ok('POST', '/apps', { slug: SLUG, name: 'Northwind Client Portal' });
  rp = await setUpRp(server, SLUG);
  accountId = (await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email: 'ada@example.com', password: PASSWORD, name: 'Ada' })).id;
}, 60_000);
afterAll(async () => {
  await chromium?.close();
  await server?.close();
});
beforeEach(async () => {
  tab = await openPage(chromium);
});
afterEach(async () => {
  await tab.close();
});

const centerUrl = () => `${server.url}/apps/${SLUG}/account`;

/** Opens the account center and signs in on the app's sign-in page, as a person does. */
async function signInToCenter(email: string): Promise<void> {
  await tab.page.goto(centerUrl());
  await arrive(tab, `${server.url}/apps/${SLUG}/interaction/`);
  await tab.page.getByLabel('Email').fill(email);
  await tab.page.getByLabel('Password').fill(PASSWORD);
  await tab.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await tab.page.waitForURL(centerUrl());
}

// A 1×1 PNG: what a client's logo_uri answers here.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

describe('account center in a real browser', () => {
  it('signs in through the app, saves the profile, shows a support PIN and signs another session out', async () => {
    const elsewhere = new Browser(server.url, { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36' });
    await signIn(rp, elsewhere, 'ada@example.com', PASSWORD);

    await signInToCenter('ada@example.com');
    expect(await tab.page.locator('h1').textContent()).toBe('Your account');
    expect(await styled(tab.page)).toBe(true);
    await screenshot(tab.page, 'account-center');

    await tab.page.getByLabel('Name').fill('Ada Lovelace');
    await tab.page.getByLabel('Preferred language').selectOption('de');
    await tab.page.getByRole('button', { name: 'Save' }).click();
    await tab.page.waitForURL(`${centerUrl()}#profile`);
    expect(await tab.page.getByRole('status').first().textContent()).toBe('Ihr Profil wurde gespeichert.');
    expect((await server.admin.ok('GET', `/apps/${SLUG}/accounts/${accountId}`)).name).toBe('Ada Lovelace');

    await tab.page.getByRole('button', { name: 'Meine Support-PIN anzeigen' }).click();
    await tab.page.waitForURL(`${centerUrl()}#support-pin`);
    const pin = (await tab.page.locator('#support-pin-value').textContent())!;
    expect(pin).toMatch(/^\d{6}$/);
    expect(await server.admin.ok('POST', `/apps/${SLUG}/accounts/${accountId}/support-pin/verify`, { pin })).toEqual({ valid: true });

    const sessions = tab.page.locator('#sessions li');
    expect(await sessions.count()).toBe(2);
    await sessions.filter({ hasText: 'Chrome unter Windows' }).getByRole('button', { name: 'Abmelden' }).click();
    await tab.page.waitForURL(`${centerUrl()}#sessions`);
    expect(await tab.page.locator('#sessions li').count()).toBe(1);
    expect(await tab.page.locator('#sessions li').textContent()).toContain('dieses Gerät');
    await expectNoProblems(tab);
  }, SLOW);

  it('shows a launcher client\'s logo_uri: the page CSP allows exactly that image origin', async () => {
    await server.admin.ok('POST', `/apps/${SLUG}/clients`, {
      name: 'Billing', redirect_uris: ['https://billing.example.test/cb'], first_party: true, initiate_login_uri: 'https://billing.example.test/login',
      logo_uri: 'https://logos.example.test/billing.png',
    });
    await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email: 'grace@example.com', password: PASSWORD, name: 'Grace' });
    // The logo host does not exist here: the browser's request is answered in place, after CSP has allowed it.
    let asked = 0;
    await tab.page.route('https://logos.example.test/**', (route) => { asked++; return route.fulfill({ contentType: 'image/png', body: PNG }); });
    await signInToCenter('grace@example.com');
    const logo = tab.page.locator('#apps img.launcher-logo');
    await expect(logo.evaluate((img: any) => img.decode().then(() => img.naturalWidth as number))).resolves.toBe(1);
    expect(asked).toBe(1);
    expect(await tab.page.locator('#apps a', { hasText: 'Billing' }).getAttribute('href')).toMatch(/^https:\/\/billing\.example\.test\/login\?iss=/);
    await expectNoProblems(tab);
  }, SLOW);
});
