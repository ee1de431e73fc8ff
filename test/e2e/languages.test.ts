/**
 * Language choice over HTTP (the browser suite shows the same in Chromium): discovery lists `ui_locales_supported`
 * (OIDC Discovery 1.0 §3); `ui_locales` (OIDC Core §3.1.2.1) beats Accept-Language; an app that pins its language
 * (`settings.force_locale`) always shows its `locale`, lists only it, and has no switcher; `?lang=` sets the switcher's
 * cookie and answers 303 to the same page without it.
 */
import { Browser } from '../support/browser.js';
import { open, setUpRp, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let open_: Rp;
let pinned: Rp;

beforeAll(async () => {
  server = await startServer();
  await server.admin.ok('POST', '/apps', { slug: 'multi', name: 'Multi' });
  await server.admin.ok('POST', '/apps', { slug: 'pinned', name: 'Pinned', settings: { locale: 'de', force_locale: true } });
  open_ = await setUpRp(server, 'multi');
  const lucia = await server.admin.ok('POST', '/apps/multi/accounts', { email: 'lucia@example.com', password: 'password-lucia', locale: 'es' });
  for (const slug of ['norte', 'sur']) {
    await server.admin.ok('POST', '/apps/multi/tenants', { slug, name: slug });
    await server.admin.ok('PUT', `/apps/multi/tenants/${slug}/members/${lucia.id}`, { roles: ['user'] });
  }
  pinned = await setUpRp(server, 'pinned');
}, 60_000);
afterAll(async () => {
  await server?.close();
});

const discovery = async (slug: string) => (await (await fetch(`${server.url}/apps/${slug}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
const h1 = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

describe('language choice', () => {
  it('lists the catalogue languages in discovery, or only the pinned one', async () => {
    expect((await discovery('multi')).ui_locales_supported).toEqual(['en', 'de', 'es', 'fr']);
    expect((await discovery('pinned')).ui_locales_supported).toEqual(['de']);
  });

  it('prefers ui_locales to Accept-Language, and Accept-Language to the app default', async () => {
    const spanish = new Browser(server.url, { 'accept-language': 'es-ES,es;q=0.9' });
    expect(h1((await open(spanish, await open_.begin({ ui_locales: 'it fr-CA' }))).html)).toBe('Se connecter à Multi');
    expect(h1((await open(spanish, await open_.begin())).html)).toBe('Iniciar sesión en Multi');
    expect(h1((await open(new Browser(server.url), await open_.begin())).html)).toBe('Sign in to Multi');
  });

  it('keeps a pinned app in its language, without a switcher', async () => {
    const page = await open(new Browser(server.url, { 'accept-language': 'fr' }), await pinned.begin({ ui_locales: 'fr' }));
    expect(h1(page.html)).toBe('Bei Pinned anmelden');
    expect(page.html).toContain('<html lang="de">');
    expect(page.html).not.toContain('class="languages"');
  });

  it('?lang= sets the choice and answers 303 to the page without it; an unknown language is ignored', async () => {
    const browser = new Browser(server.url);
    const page = await open(browser, await open_.begin());
    const path = new URL(page.url).pathname;
    const res = await browser.request(`${path}?lang=es`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(path);
    expect(res.headers.get('set-cookie')).toMatch(/^portcullis_lang=es\.\d+; path=\/; expires=[^;]+; samesite=lax; httponly$/);
    expect(h1((await browser.follow(path)).html)).toBe('Iniciar sesión en Multi');
    // Never a redirect to another site, whatever the path looks like.
    const sneaky = await fetch(`${server.url}//evil.test/x?lang=fr`, { redirect: 'manual' });
    expect(sneaky.status).toBe(303);
    expect(sneaky.headers.get('location')).toBe('/evil.test/x');
    const unknown = await browser.request(`${path}?lang=xx`);
    expect(unknown.status).toBe(303);
    expect(unknown.headers.get('set-cookie')).toBeNull();
  });

  it('ui_locales comes first in a new sign-in; the switcher used during that sign-in goes ahead of it', async () => {
    const browser = new Browser(server.url);
    // A language picked on an earlier visit (a cookie from before this sign-in began).
    const earlier = Math.floor(Date.now() / 1000) - 3600;
    const first = await open(new Browser(server.url).addCookie('portcullis_lang', `es.${earlier}`), await open_.begin({ ui_locales: 'fr' }));
    expect(h1(first.html)).toBe('Se connecter à Multi');
    // A cookie of the older format (no time) counts as an earlier choice too.
    const legacy = await open(new Browser(server.url).addCookie('portcullis_lang', 'es'), await open_.begin({ ui_locales: 'fr' }));
    expect(h1(legacy.html)).toBe('Se connecter à Multi');
    // Using the switcher on the page of this sign-in: the person's click wins over the relying party's ui_locales.
    const page = await open(browser, await open_.begin({ ui_locales: 'fr' }));
    expect(h1(page.html)).toBe('Se connecter à Multi');
    const path = new URL(page.url).pathname;
    expect((await browser.request(`${path}?lang=de`)).status).toBe(303);
    expect(h1((await browser.follow(path)).html)).toBe('Bei Multi anmelden');
    // The next sign-in asks for French again: French it is, the earlier German choice comes after ui_locales.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(h1((await open(browser, await open_.begin({ ui_locales: 'fr' }))).html)).toBe('Se connecter à Multi');
    // Without ui_locales, the earlier choice beats the browser's languages.
    expect(h1((await open(browser, await open_.begin())).html)).toBe('Bei Multi anmelden');
  });

  it('once the person is known, the account\'s locale comes before the browser\'s languages (not before ui_locales)', async () => {
    const browser = new Browser(server.url, { 'accept-language': 'en' });
    let page = await open(browser, await open_.begin());
    page = await browser.submit(page, { identifier: 'lucia@example.com', password: 'password-lucia' }, { action: '/login' });
    expect(h1(page.html)).toBe('Elija una organización');
    const asked = new Browser(server.url);
    let french = await open(asked, await open_.begin({ ui_locales: 'fr' }));
    french = await asked.submit(french, { identifier: 'lucia@example.com', password: 'password-lucia' }, { action: '/login' });
    expect(h1(french.html)).toBe('Choisissez une organisation');
  });
});
