/**
 * Branding through the Admin API and on the pages: `settings.branding` is PATCHed field by field like every setting
 * (null clears one), colours a person could not read are refused with a 400 that says which pair and by how much
 * (WCAG 2.2 AA), uploaded images are checked by their bytes (PNG, WebP, SVG, ≤ 100 KB) and served from our own
 * address with a CSP that runs nothing, and a tenant's override shows once the tenant is known (`tenant=`): on the
 * sign-in pages, and outside a sign-in on the pages emailed links open and in those emails (an invitation into the
 * tenant, a password reset or sign-in link asked for in a sign-in to it, opened in another browser).
 */
import { Browser } from '../support/browser.js';
import { open, setUpRp, type Rp } from '../support/rp.js';
import { lastMessage, messagesTo, skipSendWait } from '../support/outbox.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: Rp;
const SLUG = 'branded';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63986522f41f00042c01e018ade2040000000049454e44ae426082', 'hex');
const SVG_WITH_SCRIPT = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10" fill="#123456"/></svg>';
const dataUri = (type: string, bytes: Buffer | string) => `data:${type};base64,${Buffer.from(bytes).toString('base64')}`;

beforeAll(async () => {
  server = await startServer();
  await server.admin.ok('POST', '/apps', { slug: SLUG, name: 'Branded Portal', settings: { login_methods: ['password', 'email_code'] } });
  rp = await setUpRp(server, SLUG);
  await server.admin.ok('POST', `/apps/${SLUG}/tenants`, { slug: 'acme', name: 'Acme Ltd' });
  const account = await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email: 'ann@example.com', password: 'password-ann' });
  await server.admin.ok('PUT', `/apps/${SLUG}/tenants/acme/members/${account.id}`, { roles: ['user'] });
}, 60_000);
afterAll(async () => {
  await server?.close();
});

const patchBranding = (branding: Record<string, unknown>) => server.admin.call('PATCH', `/apps/${SLUG}`, { settings: { branding } });

describe('settings.branding', () => {
  it('is PATCHed field by field; null clears one field and keeps the others', async () => {
    expect((await patchBranding({ display_name: 'Northwind', primary_color: '#1d4ed8' })).status).toBe(200);
    expect((await patchBranding({ support_url: 'https://help.northwind.test' })).body.settings.branding)
      .toEqual({ display_name: 'Northwind', primary_color: '#1d4ed8', support_url: 'https://help.northwind.test' });
    expect((await patchBranding({ support_url: null })).body.settings.branding).toEqual({ display_name: 'Northwind', primary_color: '#1d4ed8' });
  });

  it('refuses colours that fail WCAG AA, naming the field and the ratio', async () => {
    const pale = await patchBranding({ primary_color: '#9ec5ff' });
    expect(pale.status).toBe(400);
    expect(pale.body.error).toBe('invalid_request');
    expect(pale.body.error_description).toMatch(/primary_color: contrast 1\.\d\d:1 \(#ffffff on #9ec5ff\) is below the 4\.5:1 that WCAG 2\.2 AA asks for text/);
    expect(pale.body.fields).toEqual([expect.objectContaining({ path: 'settings.branding.primary_color' })]);
    // A pair is checked after the merge: a light text colour against the stored (default) background.
    const grey = await patchBranding({ text_color: '#aaaaaa' });
    expect(grey.status).toBe(400);
    expect(grey.body.fields.map((f: { path: string }) => f.path)).toContain('settings.branding.text_color');
    expect((await patchBranding({ primary_color: 'blue' })).status).toBe(400);
    // Nothing was stored by the refused PATCHes.
    expect((await server.admin.ok('GET', `/apps/${SLUG}`)).settings.branding.primary_color).toBe('#1d4ed8');
  });

  it('accepts images by their bytes: PNG and SVG yes; a renamed text file, a wrong scheme or more than 100 KB no', async () => {
    expect((await patchBranding({ logo_url: dataUri('image/png', PNG) })).status).toBe(200);
    const fake = await patchBranding({ logo_url: dataUri('image/png', 'just text, not a picture') });
    expect(fake.status).toBe(400);
    expect(fake.body.fields[0].message).toBe('the image must be a PNG, WebP or SVG file');
    const big = await patchBranding({ logo_url: dataUri('image/png', Buffer.concat([PNG, Buffer.alloc(101 * 1024)])) });
    expect(big.status).toBe(400);
    expect(big.body.fields[0].message).toMatch(/at most 100 KB/);
    expect((await patchBranding({ logo_url: 'http://cdn.northwind.test/logo.png' })).status).toBe(400);
    expect((await patchBranding({ logo_url: 'javascript:alert(1)' })).status).toBe(400);
  });

  it('serves an uploaded SVG from its own address with a CSP that runs no script', async () => {
    expect((await patchBranding({ logo_url: dataUri('image/svg+xml', SVG_WITH_SCRIPT) })).status).toBe(200);
    const page = await open(new Browser(server.url), await rp.begin());
    const src = /<img class="logo" src="([^"]+)" alt="Northwind">/.exec(page.html)?.[1];
    expect(src).toMatch(new RegExp(`^/apps/${SLUG}/branding/logo\\?v=`));
    const image = await fetch(`${server.url}${src!.replace(/&amp;/g, '&')}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/svg+xml');
    expect(image.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox");
    expect(image.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await image.text()).toBe(SVG_WITH_SCRIPT);
    expect((await fetch(`${server.url}/apps/${SLUG}/branding/favicon`)).status).toBe(404);
  });

  it('uses an uploaded favicon on the pages, served as the type its bytes show', async () => {
    expect((await patchBranding({ favicon_url: dataUri('image/webp', PNG) })).status).toBe(200); // claims WebP, is a PNG
    const page = await open(new Browser(server.url), await rp.begin());
    const href = /<link rel="icon" href="([^"]+)">/.exec(page.html)?.[1];
    expect(href).toMatch(new RegExp(`^/apps/${SLUG}/branding/favicon\\?v=`));
    const icon = await fetch(`${server.url}${href}`);
    expect(icon.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await icon.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await patchBranding({ favicon_url: null })).status).toBe(200);
    expect((await open(new Browser(server.url), await rp.begin())).html).toContain('<link rel="icon" href="/assets/favicon.svg">');
  });

  it('puts the brand on the sign-in page: name, colour (an inline style the CSP allows by hash), footer links', async () => {
    await patchBranding({ privacy_url: 'https://northwind.test/privacy', support_email: 'help@northwind.test', hide_powered_by: true });
    const page = await open(new Browser(server.url), await rp.begin());
    expect(page.html).toContain('<title>Sign in to Branded Portal · Northwind</title>');
    expect(page.html).toContain('<style>:root { --accent: #1d4ed8; --focus: #1d4ed8; }</style>');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(page.html).toContain('href="https://northwind.test/privacy"');
    expect(page.html).toContain('href="mailto:help@northwind.test"');
    expect(page.html).not.toContain('Secured by Portcullis');
  });

  it('brands the emails: the display name, the button colour and the support address', async () => {
    const flow = await rp.begin();
    const browser = new Browser(server.url);
    const page = await open(browser, flow);
    await skipSendWait(server, SLUG, 'ann@example.com');
    await browser.submit(page, { identifier: 'ann@example.com' }, { formaction: `${new URL(page.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
    const [message] = (await messagesTo(server, SLUG, 'ann@example.com')).slice(-1);
    expect(message.subject).toBe('Your Northwind sign-in code');
    expect(message.html).toContain('help@northwind.test');
    expect(message.text).toContain('Northwind');
  });
});

describe('tenant branding', () => {
  it('is set with PATCH /apps/{slug}/tenants/{t} and checked like the app\'s', async () => {
    const refused = await server.admin.call('PATCH', `/apps/${SLUG}/tenants/acme`, { branding: { primary_color: '#ffff00' } });
    expect(refused.status).toBe(400);
    expect(refused.body.fields[0].path).toBe('branding.primary_color');
    expect((await server.admin.call('PATCH', `/apps/${SLUG}/tenants/acme`, { branding: { background_color: '#000000' } })).status).toBe(400);
    const tenant = await server.admin.ok('PATCH', `/apps/${SLUG}/tenants/acme`, { branding: { display_name: 'Acme Client Hub', primary_color: '#7c2d12' } });
    expect(tenant.branding).toEqual({ display_name: 'Acme Client Hub', primary_color: '#7c2d12' });
  });

  it('applies when the request names the tenant, and not otherwise', async () => {
    const withTenant = await open(new Browser(server.url), await rp.begin({ tenant: 'acme' }));
    expect(withTenant.html).toContain('<style>:root { --accent: #7c2d12; --focus: #7c2d12; }</style>');
    expect(withTenant.html).toContain('alt="Acme Client Hub"');
    const without = await open(new Browser(server.url), await rp.begin());
    expect(without.html).toContain('--accent: #1d4ed8');
    expect(without.html).not.toContain('Acme Client Hub');
  });
});

describe('tenant branding outside a sign-in', () => {
  // The tenant's override (set above): its name and colour replace the app's Northwind and #1d4ed8.
  const TENANT_STYLE = '<style>:root { --accent: #7c2d12; --focus: #7c2d12; }</style>';
  const APP_STYLE = '<style>:root { --accent: #1d4ed8; --focus: #1d4ed8; }</style>';

  function expectTenantPage(page: { status: number; html: string }, status = 200) {
    expect(page.status).toBe(status);
    expect(page.html).toContain(TENANT_STYLE);
    expect(page.html).toContain(' · Acme Client Hub</title>');
    expect(page.html).toContain('alt="Acme Client Hub"');
    expect(page.html).not.toContain('Northwind');
    expect(page.html).not.toContain('#1d4ed8');
  }
  function expectAppPage(page: { status: number; html: string }) {
    expect(page.status).toBe(200);
    expect(page.html).toContain(APP_STYLE);
    expect(page.html).toContain(' · Northwind</title>');
    expect(page.html).not.toContain('Acme Client Hub');
  }
  function expectTenantEmail(message: { subject: string; text: string; html: string }) {
    expect(message.subject).toContain('Acme Client Hub');
    expect(message.text).toContain('Acme Client Hub');
    // The button (emails with a link) and the help link are the tenant's colour.
    expect(message.html).toContain(/\/(invitation|reset|link)\//.test(message.text) ? 'background:#7c2d12' : 'color:#7c2d12');
    // The app's support address stays (a tenant overrides name, logo and colour only).
    expect(message.html).toContain('mailto:help@northwind.test');
    expect(`${message.subject}\n${message.text}\n${message.html}`).not.toMatch(/Northwind|#1d4ed8/);
  }
  function expectAppEmail(message: { subject: string; text: string; html: string }) {
    expect(message.subject).toContain('Northwind');
    expect(message.html).toContain('background:#1d4ed8');
    expect(`${message.subject}\n${message.text}\n${message.html}`).not.toContain('Acme Client Hub');
  }
  const linkIn = (message: { text: string }, kind: 'invitation' | 'reset' | 'link') => new RegExp(`https?://\\S+/${kind}/[A-Za-z0-9_-]{43}`).exec(message.text)![0];

  beforeAll(async () => {
    await server.admin.ok('PATCH', `/apps/${SLUG}`, { settings: { login_methods: ['password', 'email_code', 'magic_link'] } });
    for (const email of ['rita@example.com', 'ron@example.com', 'lina@example.com', 'leo@example.com']) {
      await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email, password: `password ${email}` });
    }
  });

  it("an invitation into the tenant: the email and its page (also after a form error) wear the tenant's brand", async () => {
    await server.admin.ok('POST', `/apps/${SLUG}/invitations`, { email: 'ivy@example.com', tenant: 'acme' });
    const message = await lastMessage(server, SLUG, 'ivy@example.com');
    expect(message.subject).toBe('You are invited to Acme Client Hub (Acme Ltd)');
    expectTenantEmail(message);

    const browser = new Browser(server.url);
    const page = await browser.follow(linkIn(message, 'invitation'));
    expectTenantPage(page);
    expect(page.html).toContain('as a member of <strong>Acme Ltd</strong>');
    const mismatch = await browser.submit(page, { new_password: 'a long new password', new_password_confirm: 'another long password' }, { action: '/invitation/' });
    expectTenantPage(mismatch);
    expect(mismatch.html).toContain('id="form-error"');
  });

  it("an invitation without a tenant: the app's brand", async () => {
    await server.admin.ok('POST', `/apps/${SLUG}/invitations`, { email: 'ike@example.com' });
    const message = await lastMessage(server, SLUG, 'ike@example.com');
    expect(message.subject).toBe('You are invited to Northwind');
    expectAppEmail(message);
    expectAppPage(await new Browser(server.url).follow(linkIn(message, 'invitation')));
  });

  /** "Forgot password?" in a sign-in (with `params`), for `email`; the reset email it sends. */
  async function askForReset(email: string, params: Record<string, string> = {}) {
    const browser = new Browser(server.url);
    const start = await open(browser, await rp.begin(params));
    const forgot = await browser.follow(/href="([^"]*\/forgot)"/.exec(start.html)![1]);
    const sent = await browser.submit(forgot, { identifier: email }, { action: '/forgot' });
    expect(sent.html).toContain('Check your email');
    return lastMessage(server, SLUG, email, (m) => /reset your/i.test(m.subject));
  }

  it("a reset asked for in a sign-in with tenant=: the email, the page its link opens in another browser and the pages after wear the tenant's brand", async () => {
    const message = await askForReset('rita@example.com', { tenant: 'acme' });
    expect(message.subject).toBe('Reset your Acme Client Hub password');
    expectTenantEmail(message);

    const elsewhere = new Browser(server.url);
    const page = await elsewhere.follow(linkIn(message, 'reset'));
    expectTenantPage(page);
    expect(page.html).toContain('rita@example.com');
    const tooShort = await elsewhere.submit(page, { new_password: 'short', new_password_confirm: 'short' }, { action: '/reset/' });
    expectTenantPage(tooShort, 400);
    const done = await elsewhere.submit(page, { new_password: 'a brand new passphrase', new_password_confirm: 'a brand new passphrase' }, { action: '/reset/' });
    expect(done.url).toMatch(/\/reset\/done\?/);
    expectTenantPage(done);
    const changed = await lastMessage(server, SLUG, 'rita@example.com', (m) => /was changed/.test(m.subject));
    expect(changed.subject).toBe('Your Acme Client Hub password was changed');
    expectTenantEmail(changed);
  });

  it("a reset asked for without a tenant: the app's brand", async () => {
    const message = await askForReset('ron@example.com');
    expect(message.subject).toBe('Reset your Northwind password');
    expectAppEmail(message);
    expectAppPage(await new Browser(server.url).follow(linkIn(message, 'reset')));
  });

  /** "Email me a sign-in link" in a sign-in (with `params`), for `email`; the email it sends. */
  async function askForLink(email: string, params: Record<string, string> = {}) {
    const browser = new Browser(server.url);
    const start = await open(browser, await rp.begin(params));
    const sent = await browser.submit(start, { identifier: email }, { formaction: `${new URL(start.url).pathname}/link/send`, button: { name: 'channel', value: 'email' } });
    expect(sent.html).toContain('Check your email');
    return lastMessage(server, SLUG, email, (m) => /sign-in link/.test(m.subject));
  }

  it("a sign-in link asked for with tenant=: the email and the \"Sign in on this device?\" page of another browser wear the tenant's brand", async () => {
    const message = await askForLink('lina@example.com', { tenant: 'acme' });
    expect(message.subject).toBe('Your Acme Client Hub sign-in link');
    expectTenantEmail(message);
    const confirm = await new Browser(server.url).follow(linkIn(message, 'link'));
    expect(confirm.url).toMatch(/\/interaction\/[^/]+\/link\//);
    expectTenantPage(confirm);
    expect(confirm.html).toContain('action="/apps/branded/link/');
  });

  it("a sign-in code asked for with tenant=: the code email wears the tenant's brand", async () => {
    const browser = new Browser(server.url);
    const start = await open(browser, await rp.begin({ tenant: 'acme' }));
    await skipSendWait(server, SLUG, 'rita@example.com');
    await browser.submit(start, { identifier: 'rita@example.com' }, { formaction: `${new URL(start.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
    const message = await lastMessage(server, SLUG, 'rita@example.com', (m) => /sign-in code/.test(m.subject));
    expect(message.subject).toBe('Your Acme Client Hub sign-in code');
    expectTenantEmail(message);
  });

  it("a sign-in link asked for without a tenant: the app's brand", async () => {
    const message = await askForLink('leo@example.com');
    expect(message.subject).toBe('Your Northwind sign-in link');
    expectAppEmail(message);
    expectAppPage(await new Browser(server.url).follow(linkIn(message, 'link')));
  });
});
