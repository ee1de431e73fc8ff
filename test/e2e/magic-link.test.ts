import { Browser, type Page } from '../support/browser.js';
import { open, REDIRECT_URI, rpFor, setUpRp, type Flow, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { skipSendWait } from '../support/outbox.js';

const START = 'https://rp.example.test/start';

let server: TestServer;
let rp: Rp;
let accountId: string;

beforeAll(async () => {
  server = await startServer();
  await server.admin.ok('POST', '/apps', { slug: 'beacon', name: 'Beacon', settings: { login_methods: ['password', 'magic_link'] } });
  rp = await setUpRp(server, 'beacon', { initiate_login_uri: START });
  const tenant = await server.admin.ok('POST', '/apps/beacon/tenants', { slug: 'acme', name: 'Acme Ltd' });
  accountId = (await server.admin.ok('POST', '/apps/beacon/accounts', { email: 'linker@example.com', password: 'linker password' })).id;
  await server.admin.ok('PUT', `/apps/beacon/tenants/${tenant.id}/members/${accountId}`, { roles: ['user'] });
});
afterAll(() => server.close());

async function outbox(slug = 'beacon'): Promise<any[]> {
  return server.admin.ok('GET', `/apps/${slug}/outbox`);
}

async function lastLink(to: string, slug = 'beacon'): Promise<string> {
  const message = (await outbox(slug)).filter((m) => m.to === to).at(-1);
  return /(https?:\/\/\S+\/link\/[A-Za-z0-9_-]+)/.exec(message.text)![1];
}

async function requestLink(browser: Browser, identifier: string, target: Rp = rp): Promise<{ page: Page; flow: Flow }> {
  await skipSendWait(server, new URL(target.issuer).pathname.split('/').pop()!, identifier);
  const flow = await target.begin();
  const start = await open(browser, flow);
  expect(start.html).toContain('Email me a sign-in link');
  const page = await browser.submit(start, { identifier }, { formaction: `${new URL(start.url).pathname}/link/send`, button: { name: 'channel', value: 'email' } });
  return { page, flow };
}

describe('sign-in with an emailed link', () => {
  it('completes the sign-in in the browser that asked for the link, and marks the email verified', async () => {
    await server.admin.ok('PATCH', `/apps/beacon/accounts/${accountId}`, { email_verified: false });
    const browser = new Browser(server.url);
    const { page, flow } = await requestLink(browser, 'Linker@Example.com');
    expect(page.url).toMatch(/\/interaction\/[^/]+\/link$/);
    expect(page.html).toContain('Check your email');
    const link = await lastLink('linker@example.com');
    expect(link.startsWith(`${server.url}/apps/beacon/link/`)).toBe(true);
    expect((await outbox()).at(-1).text).toContain('valid for 10 minutes');

    const back = await browser.follow(link, REDIRECT_URI);
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(flow, back.url)).claims()).toMatchObject({ sub: accountId, email_verified: true, tenant_slug: 'acme' });
    const audit = (await server.admin.ok('GET', '/apps/beacon/audit')).items;
    expect(audit.find((e: any) => e.type === 'sign_in.succeeded' && e.account_id === accountId)?.detail).toMatchObject({ amr: 'email' });

    // Single use.
    const again = await new Browser(server.url).follow(link);
    expect(again.status).toBe(400);
    expect(again.html).toContain('expired or has already been used');
  });

  it('asks before signing in another device, then signs that device in through the initiate_login_uri', async () => {
    const first = new Browser(server.url);
    const { page: firstPage } = await requestLink(first, 'linker@example.com');
    const link = await lastLink('linker@example.com');

    const second = new Browser(server.url);
    let page = await second.follow(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Sign in on this device?');
    // Opening does not use the link up (mail scanners fetch links).
    page = await second.follow(link);
    expect(page.html).toContain('Sign in on this device?');
    expect(page.headers.get('content-security-policy')).toContain('form-action \'self\' https://rp.example.test');

    // The confirmation token works only in the browser it was shown to (no login CSRF).
    const csrf = /name="_csrf" value="([^"]*)"/.exec(page.html)![1];
    const forged = await new Browser(server.url).request(link, { method: 'POST', body: new URLSearchParams({ _csrf: csrf }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(forged.status).toBe(403);

    const landed = await second.submit(page, {}, { stopAt: START });
    const landing = new URL(landed.url);
    expect(`${landing.origin}${landing.pathname}`).toBe(START);
    expect(landing.searchParams.get('iss')).toBe(rp.issuer);
    expect(landing.searchParams.get('login_hint')).toBe('linker@example.com');

    const flow = await rp.begin();
    const back = await open(second, flow);
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(flow, back.url)).claims()).toMatchObject({ sub: accountId, tenant_slug: 'acme' });

    // The first device's sign-in was not completed, and the link is used up there too.
    const waiting = await first.follow(firstPage.url.replace(/\/link$/, ''));
    expect(waiting.html).toContain('name="password"');
    expect((await first.follow(link)).status).toBe(400);
  });

  it('refuses the confirmation without the CSRF token bound to the link', async () => {
    // The CSRF check comes first: any well-formed token will do.
    const res = await new Browser(server.url).request(`/apps/beacon/link/${'A'.repeat(43)}`, { method: 'POST', body: new URLSearchParams({}), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(403);
  });

  it('answers the same page for an unknown address and sends nothing', async () => {
    const before = (await outbox()).length;
    const known = await requestLink(new Browser(server.url), 'linker@example.com');
    const unknown = await requestLink(new Browser(server.url), 'stranger@example.com');
    const strip = (p: Page) => p.html.replace(/name="_csrf" value="[^"]*"/g, '').replace(/\/interaction\/[^/"]+/g, '/interaction/X').replace(/linker@example\.com|stranger@example\.com/g, 'ID');
    expect(unknown.page.status).toBe(known.page.status);
    expect(strip(unknown.page)).toBe(strip(known.page));
    expect((await outbox()).length).toBe(before + 1);
  });

  it('keeps only the newest link of a sign-in valid', async () => {
    const browser = new Browser(server.url);
    const { page, flow } = await requestLink(browser, 'linker@example.com');
    const older = await lastLink('linker@example.com');
    const again = await browser.submit(page, {}, { action: '/link/send' });
    expect(again.html).toContain('Please wait 30 seconds');
    // Past the 30-second wait.
    await skipSendWait(server, 'beacon', 'linker@example.com');
    await browser.submit(page, {}, { action: '/link/send' });
    const newer = await lastLink('linker@example.com');
    expect(newer).not.toBe(older);
    expect((await browser.follow(older)).status).toBe(400);
    const back = await browser.follow(newer, REDIRECT_URI);
    expect((await rp.finish(flow, back.url)).claims()!.sub).toBe(accountId);
  });

  it('is refused when the app does not offer sign-in links', async () => {
    await server.admin.ok('POST', '/apps', { slug: 'nolinks', name: 'No links' });
    const plain = await setUpRp(server, 'nolinks');
    await server.admin.ok('POST', '/apps/nolinks/accounts', { email: 'linker@example.com', password: 'linker password' });
    const browser = new Browser(server.url);
    const start = await open(browser, await plain.begin());
    expect(start.html).not.toContain('Email me a sign-in link');
    const page = await browser.submit(start, { identifier: 'linker@example.com' }, { formaction: `${new URL(start.url).pathname}/link/send` });
    expect(page.html).toContain('Choose how you want to sign in.');
    expect((await outbox('nolinks')).length).toBe(0);
  });

  it('shows a plain page on the other device when there is nowhere to land', async () => {
    await server.admin.ok('POST', '/apps', { slug: 'lone', name: 'Lone', settings: { login_methods: ['magic_link'] } });
    const created = await server.admin.ok('POST', '/apps/lone/clients', { name: 'Portal', redirect_uris: [REDIRECT_URI], first_party: true });
    const loneRp = await rpFor(server, 'lone', created.client_id, created.client_secret);
    const loner = (await server.admin.ok('POST', '/apps/lone/accounts', { email: 'lone@example.com' })).id;
    await requestLink(new Browser(server.url), 'lone@example.com', loneRp);
    const other = new Browser(server.url);
    const confirm = await other.follow(await lastLink('lone@example.com', 'lone'));
    const done = await other.submit(confirm, {});
    expect(done.url).toBe(`${server.url}/apps/lone/signed-in`);
    const flow = await loneRp.begin();
    const back = await open(other, flow);
    expect((await loneRp.finish(flow, back.url)).claims()!.sub).toBe(loner);
  });
});
