/**
 * Branding and languages in a real browser. Branding: a tenant's brand (name, logo, colour) applies when the
 * request names the tenant (`tenant=`), through the page's CSP (the colours are an inline style allowed by its hash,
 * the uploaded logo comes from our own address), and a colour that fails WCAG AA is refused with a 400. Languages: the relying party's `ui_locales` (OIDC Core §3.1.2.1) puts the sign-in pages and the
 * code email in French; the language switcher on the page (plain links, no script, under the pages' strict CSP)
 * changes the language for the rest of the visit. Screenshots of the sign-in page at desktop and phone width are
 * saved when BROWSER_SCREENSHOTS names a directory.
 */
import { arrive, claim, expectNoProblems, focused, launchChromium, openPage, screenshot, styled, type BrowserPage, type Chromium } from '../support/chromium.js';
import { startAnotherOriginRp, type AnotherOriginRp } from '../support/another-origin-rp.js';
import { codeIn, lastMessage } from '../support/outbox.js';
import { startServer, type TestServer } from '../support/server.js';

const SLUG = 'langs';
const SLOW = 60_000;
let server: TestServer;
let chromium: Chromium;
let rp: AnotherOriginRp;
let tab: BrowserPage;
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer();
  chromium = await launchChromium();
  await server.admin.ok('POST', '/apps', { slug: SLUG, name: 'Northwind Client Portal' });
  rp = await startAnotherOriginRp(server, SLUG);
  ids.acme = (await server.admin.ok('POST', `/apps/${SLUG}/tenants`, { slug: 'acme', name: 'Acme Ltd' })).id;
  for (const [key, email, password] of [['ana', 'ana@example.com', 'password-ana'], ['coder', 'coder@example.com', undefined]] as const) {
    ids[key] = (await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email, name: key, ...(password ? { password } : {}) })).id;
    await server.admin.ok('PUT', `/apps/${SLUG}/tenants/acme/members/${ids[key]}`, { roles: ['user'] });
  }
}, 60_000);
afterAll(async () => {
  await Promise.all([rp?.close(), chromium?.close()]);
  await server?.close();
});
beforeEach(async () => {
  tab = await openPage(chromium);
});
afterEach(async () => {
  await tab.close();
});

const interactionPrefix = () => `${server.url}/apps/${SLUG}/interaction/`;
const heading = () => tab.page.locator('h1').textContent();

describe('languages in a real browser', () => {
  it('ui_locales=fr: the sign-in page, the code page and the code email are in French', async () => {
    await tab.page.goto(`${rp.url}/login?ui_locales=fr`);
    await arrive(tab, interactionPrefix());
    expect(await heading()).toBe('Se connecter à Northwind Client Portal');
    expect(await tab.page.locator('html').getAttribute('lang')).toBe('fr');
    expect(await styled(tab.page)).toBe(true);
    expect(await tab.page.getByLabel('Mot de passe').count()).toBe(1);
    await screenshot(tab.page, 'sign-in-fr');
    await tab.page.keyboard.type('coder@example.com');
    await tab.page.getByRole('button', { name: "M'envoyer un code par e-mail" }).click();
    await tab.page.waitForURL(/\/code$/);
    expect(await heading()).toBe('Saisissez votre code');
    expect(await focused(tab.page)).toBe('#code');
    const message = await lastMessage(server, SLUG, 'coder@example.com');
    expect(message.subject).toBe('Votre code de connexion à Northwind Client Portal');
    expect(message.text).toContain('Votre code de connexion à Northwind Client Portal est :');
    expect(message.text).toContain('Il est valable 10 minutes');
    await tab.page.keyboard.type(codeIn(message));
    await tab.page.keyboard.press('Enter');
    await arrive(tab, `${rp.url}/callback`);
    expect(await claim(tab.page, 'sub')).toBe(ids.coder);
    await expectNoProblems(tab);
  }, SLOW);

  it('the switcher: a link on the page changes the language, and the choice lasts for the next pages', async () => {
    await tab.page.goto(`${rp.url}/login`);
    await arrive(tab, interactionPrefix());
    // Chromium asks for en-US: English, with the switcher offering the other languages by their own names.
    expect(await heading()).toBe('Sign in to Northwind Client Portal');
    const switcher = tab.page.getByRole('navigation', { name: 'Language' });
    expect(await switcher.getByRole('link').allTextContents()).toEqual(['English', 'Deutsch', 'Español', 'Français']);
    expect(await switcher.getByRole('link', { name: 'English' }).getAttribute('aria-current')).toBe('true');
    await switcher.getByRole('link', { name: 'Deutsch' }).click();
    await tab.page.waitForURL((url) => url.pathname.startsWith(`/apps/${SLUG}/interaction/`) && !url.search.includes('lang='));
    expect(await heading()).toBe('Bei Northwind Client Portal anmelden');
    expect(await tab.page.locator('html').getAttribute('lang')).toBe('de');
    expect(await tab.page.getByRole('navigation', { name: 'Sprache' }).getByRole('link', { name: 'Deutsch' }).getAttribute('aria-current')).toBe('true');
    // The next page (after a POST and its 303) keeps the choice.
    await tab.page.getByLabel('E-Mail', { exact: true }).fill('ana@example.com');
    await tab.page.getByLabel('Passwort').fill('wrong-password');
    await tab.page.getByRole('button', { name: 'Anmelden', exact: true }).click();
    await tab.page.waitForURL(/\/interaction\/[^/]+$/);
    expect(await tab.page.getByRole('alert').textContent()).toBe('E-Mail oder Passwort ungültig');
    await tab.page.getByLabel('Passwort').fill('password-ana');
    await tab.page.getByLabel('Passwort').press('Enter');
    await arrive(tab, `${rp.url}/callback`);
    expect(await claim(tab.page, 'sub')).toBe(ids.ana);
    await expectNoProblems(tab);
  }, SLOW);

  it('screenshots of the sign-in page at desktop and phone width', async () => {
    await tab.page.setViewportSize({ width: 1280, height: 800 });
    await tab.page.goto(`${rp.url}/login`);
    await arrive(tab, interactionPrefix());
    await screenshot(tab.page, 'sign-in-desktop');
    await tab.page.setViewportSize({ width: 390, height: 844 });
    // At phone width the card fills the screen and nothing scrolls sideways.
    expect(await tab.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await screenshot(tab.page, 'sign-in-phone');
    await expectNoProblems(tab);
  }, SLOW);
});

describe('branding in a real browser', () => {
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63986522f41f00042c01e018ade2040000000049454e44ae426082', 'hex');

  it('a contrast-failing colour is refused with a 400 that says why', async () => {
    const refused = await server.admin.call('PATCH', `/apps/${SLUG}`, { settings: { branding: { primary_color: '#ffd400' } } });
    expect(refused.status).toBe(400);
    expect(refused.body.error_description).toMatch(/too hard to read: .*primary_color: contrast 1\.\d\d:1 .* below the 4\.5:1 that WCAG 2\.2 AA asks for text/);
  });

  it('tenant= puts the tenant\'s name, logo and colour on the sign-in page; without it the app\'s brand shows', async () => {
    await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { branding: { display_name: 'Northwind', primary_color: '#1e3a8a', terms_url: 'https://northwind.test/terms' } } });
    await server.admin.ok('PATCH', `/apps/${SLUG}/tenants/acme`, {
      branding: { display_name: 'Acme Client Hub', primary_color: '#9a3412', logo_url: `data:image/png;base64,${PNG.toString('base64')}` },
    });
    await tab.page.goto(`${rp.url}/login?tenant=acme`);
    await arrive(tab, interactionPrefix());
    const logo = tab.page.getByRole('img', { name: 'Acme Client Hub' });
    expect(await logo.count()).toBe(1);
    // The image loaded (from /apps/{slug}/branding/logo, allowed by img-src 'self'): it has a width.
    expect(await logo.evaluate((img: any) => img.complete && img.naturalWidth)).toBe(1);
    const accent = async () => tab.page.getByRole('button', { name: 'Sign in', exact: true }).evaluate((b: any) => (globalThis as any).getComputedStyle(b).backgroundColor);
    expect(await accent()).toBe('rgb(154, 52, 18)');
    expect(await tab.page.getByRole('link', { name: 'Terms' }).getAttribute('href')).toBe('https://northwind.test/terms');
    await screenshot(tab.page, 'sign-in-tenant-brand');
    await expectNoProblems(tab);

    const other = await openPage(chromium);
    try {
      await other.page.goto(`${rp.url}/login`);
      await arrive(other, interactionPrefix());
      expect(await other.page.getByRole('img', { name: 'Acme Client Hub' }).count()).toBe(0);
      expect(await other.page.getByRole('button', { name: 'Sign in', exact: true }).evaluate((b: any) => (globalThis as any).getComputedStyle(b).backgroundColor)).toBe('rgb(30, 58, 138)');
      expect(await other.page.title()).toBe('Sign in to Northwind Client Portal · Northwind');
      await expectNoProblems(other);
    } finally {
      await other.close();
    }
  }, SLOW);
});
