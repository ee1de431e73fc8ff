/**
 * RP-initiated logout, at the HTTP level: the logout page's CSP lets its form's redirect reach
 * the relying party's origin (browsers apply form-action to redirects after a form post), and the per-app
 * `logout_confirmation: skip_with_id_token_hint` setting signs out in one step. The real-browser check of the
 * cross-origin redirect is the Chromium test.
 */
import { createHash } from 'node:crypto';
import { Browser } from '../support/browser.js';
import { oidc, open, rpFor, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { REDIRECT_URI } from '../support/rp.js';

const POST_LOGOUT = 'https://rp.example.test/signed-out';
const OTHER_POST_LOGOUT = 'https://other-rp.example.test:8443/bye';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
  for (const slug of ['ask', 'oneclick']) {
    await server.admin.ok('POST', '/apps', { slug, name: `App ${slug}` });
    await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'l@example.com', password: 'logout-password' });
  }
  await server.admin.ok('PATCH', '/apps/oneclick', { settings: { logout_confirmation: 'skip_with_id_token_hint' } });
});
afterAll(() => server.close());

async function rpIn(slug: string): Promise<Rp> {
  const created = await server.admin.ok('POST', `/apps/${slug}/clients`, {
    name: 'Portal', redirect_uris: [REDIRECT_URI], post_logout_redirect_uris: [POST_LOGOUT, OTHER_POST_LOGOUT], first_party: true,
  });
  return rpFor(server, slug, created.client_id, created.client_secret);
}

function formAction(csp: string | null): string[] {
  return /form-action ([^;]*)/.exec(csp ?? '')?.[1].split(' ') ?? [];
}

async function stillSignedIn(rp: Rp, browser: Browser): Promise<boolean> {
  const page = await open(browser, await rp.begin({ prompt: 'none' }));
  return new URL(page.url).searchParams.get('error') === null;
}

describe('logout page CSP', () => {
  it("allows the client's post-logout redirect origins in form-action, and nothing else", async () => {
    const rp = await rpIn('ask');
    const browser = new Browser(server.url);
    const { tokens } = await signIn(rp, browser, 'l@example.com', 'logout-password');
    const url = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT, state: 'st' });
    const page = await browser.follow(url.href);
    expect(page.html).toContain('Yes, sign me out');
    const csp = page.headers.get('content-security-policy');
    expect(formAction(csp).sort()).toEqual(["'self'", 'https://other-rp.example.test:8443', 'https://rp.example.test'].sort());
    expect(csp).not.toMatch(/script-src/);
    // And the confirmation's redirect goes exactly there.
    const done = await browser.submit(page, {}, { button: { name: 'logout', value: 'yes' }, stopAt: POST_LOGOUT });
    expect(done.status).toBe(303);
    expect(new URL(done.url).origin + new URL(done.url).pathname).toBe(POST_LOGOUT);
    expect(new URL(done.url).searchParams.get('state')).toBe('st');
  });

  it("keeps form-action 'self' when no client is named (the library then ends on its own page)", async () => {
    const rp = await rpIn('ask');
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'l@example.com', 'logout-password');
    const page = await browser.follow(rp.config.serverMetadata().end_session_endpoint!);
    expect(page.html).toContain('Yes, sign me out');
    expect(formAction(page.headers.get('content-security-policy'))).toEqual(["'self'"]);
  });

  it('still asks for confirmation with a valid id_token_hint by default', async () => {
    const rp = await rpIn('ask');
    const browser = new Browser(server.url);
    const { tokens } = await signIn(rp, browser, 'l@example.com', 'logout-password');
    const page = await browser.follow(oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT }).href);
    expect(page.html).toContain('Yes, sign me out');
    expect(await stillSignedIn(rp, browser)).toBe(true);
  });
});

describe('logout_confirmation: skip_with_id_token_hint', () => {
  it('ends the session and lands on the post_logout_redirect_uri without a question', async () => {
    const rp = await rpIn('oneclick');
    const browser = new Browser(server.url);
    const { tokens } = await signIn(rp, browser, 'l@example.com', 'logout-password');
    const url = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT, state: 'one' });
    const page = await browser.follow(url.href);
    expect(page.html).not.toContain('Yes, sign me out');
    // The page submits itself with one inline script, allowed by its hash and nothing else.
    const script = /<script>([^<]*)<\/script>/.exec(page.html)![1];
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain(`script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(csp).not.toMatch(/unsafe-inline/);
    expect(formAction(csp)).toContain('https://rp.example.test');
    // What the script does: post the library's form (XSRF token included).
    const done = await browser.submit(page, {}, { stopAt: POST_LOGOUT });
    expect(done.status).toBe(303);
    const landed = new URL(done.url);
    expect(landed.origin + landed.pathname).toBe(POST_LOGOUT);
    expect(landed.searchParams.get('state')).toBe('one');
    expect(await stillSignedIn(rp, browser)).toBe(false);
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('asks as usual without an id_token_hint', async () => {
    const rp = await rpIn('oneclick');
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'l@example.com', 'logout-password');
    const page = await browser.follow(oidc.buildEndSessionUrl(rp.config, { client_id: rp.clientId, post_logout_redirect_uri: POST_LOGOUT }).href);
    expect(page.html).toContain('Yes, sign me out');
    expect(page.headers.get('content-security-policy')).not.toMatch(/script-src/);
  });

  it('asks as usual when the id_token_hint is from an earlier session of the same person', async () => {
    const rp = await rpIn('oneclick');
    const old = new Browser(server.url);
    const { tokens: earlier } = await signIn(rp, old, 'l@example.com', 'logout-password');
    await new Promise((r) => setTimeout(r, 1100)); // iat and loginTs are whole seconds
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'l@example.com', 'logout-password');
    const page = await browser.follow(oidc.buildEndSessionUrl(rp.config, { id_token_hint: earlier.id_token!, post_logout_redirect_uri: POST_LOGOUT }).href);
    expect(page.html).toContain('Yes, sign me out');
    expect(await stillSignedIn(rp, browser)).toBe(true);
  });

  it('is refused as a setting value it does not know', async () => {
    const res = await server.admin.call('PATCH', '/apps/oneclick', { settings: { logout_confirmation: 'never' } });
    expect(res.status).toBe(400);
    expect((await server.admin.ok('GET', '/apps/ask')).settings.logout_confirmation).toBe('always');
  });
});
