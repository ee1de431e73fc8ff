import { Browser, choices, type Page } from '../support/browser.js';
import { choose, open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: Rp;
const ids: Record<string, string> = {};
const EMAIL = 'shared@example.com';

beforeAll(async () => {
  server = await startServer();
  await server.admin.ok('POST', '/apps', { slug: 'multi', name: 'Multi', settings: { accounts_per_email: 'many', login_methods: ['password', 'email_code'] } });
  rp = await setUpRp(server, 'multi');
  for (const [slug, name] of [['north', 'North Branch'], ['south', 'South Branch'], ['east', 'East Branch']]) {
    ids[slug] = (await server.admin.ok('POST', '/apps/multi/tenants', { slug, name })).id;
  }
  // Three accounts behind one email: two share a password, the third has its own.
  ids.north = (await server.admin.ok('POST', '/apps/multi/accounts', { email: EMAIL, password: 'password-one', name: 'Shared North' })).id;
  ids.south = (await server.admin.ok('POST', '/apps/multi/accounts', { email: EMAIL, password: 'password-one', name: 'Shared South' })).id;
  ids.other = (await server.admin.ok('POST', '/apps/multi/accounts', { email: EMAIL, password: 'password-other', name: 'Shared Other' })).id;
  await server.admin.ok('PUT', `/apps/multi/tenants/north/members/${ids.north}`, { roles: ['user'] });
  await server.admin.ok('PUT', `/apps/multi/tenants/south/members/${ids.south}`, { roles: ['manager'] });
  await server.admin.ok('PUT', `/apps/multi/tenants/east/members/${ids.south}`, { roles: ['auditor'] });
  await server.admin.ok('PUT', `/apps/multi/tenants/north/members/${ids.other}`, { roles: ['guest'] });
});
afterAll(() => server.close());

async function passwordStep(browser: Browser, password: string) {
  const flow = await rp.begin();
  const page = await open(browser, flow);
  return { flow, page: await browser.submit(page, { identifier: EMAIL, password }, { action: '/login', stopAt: REDIRECT_URI }) };
}

const labels = (page: Page) => choices(page).map((c) => c.label);

describe('several accounts behind one email', () => {
  it('offers only the accounts whose password matched; each choice signs in as its own sub', async () => {
    const first = await passwordStep(new Browser(server.url), 'password-one');
    expect(labels(first.page).sort()).toEqual(['Shared North', 'Shared South']);

    const browser = new Browser(server.url);
    const { flow, page } = await passwordStep(browser, 'password-one');
    const back = await choose(browser, page, 'Shared North');
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(flow, back.url)).claims()).toMatchObject({ sub: ids.north, tenant_slug: 'north', roles: ['user'] });
  });

  it('records a wrong password in the sign-in history of every account behind the email', async () => {
    const { page } = await passwordStep(new Browser(server.url), 'password-none');
    expect(page.url.startsWith(REDIRECT_URI)).toBe(false);
    for (const id of [ids.north, ids.south, ids.other]) {
      const [latest] = await server.admin.ok('GET', `/apps/multi/accounts/${id}/sign-ins`);
      expect(latest).toMatchObject({ result: 'failed', method: 'password', reason: 'wrong_password' });
    }
  });

  it('signs straight in when only one account has that password', async () => {
    const { flow, page } = await passwordStep(new Browser(server.url), 'password-other');
    expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(flow, page.url)).claims()).toMatchObject({ sub: ids.other, tenant_slug: 'north', roles: ['guest'] });
  });

  it('asks for the account, then the tenant; the ID token reflects both choices', async () => {
    const browser = new Browser(server.url);
    const { flow, page } = await passwordStep(browser, 'password-one');
    let next = await choose(browser, page, 'Shared South');
    expect(labels(next)).toEqual(['South Branch', 'East Branch']);
    next = await choose(browser, next, 'East Branch');
    const claims = (await rp.finish(flow, next.url)).claims();
    expect(claims).toMatchObject({ sub: ids.south, tenant_id: ids.east, tenant_slug: 'east', tenant_name: 'East Branch', roles: ['auditor'] });
  });

  it('offers every account behind the email after a code sign-in', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    const start = await open(browser, flow);
    const codePage = await browser.submit(start, { identifier: EMAIL }, { formaction: `${new URL(start.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
    const outbox = await server.admin.ok('GET', '/apps/multi/outbox');
    const code = /\b(\d{6})\b/.exec(outbox.filter((m: any) => m.to === EMAIL).at(-1).text)![1];
    const page = await browser.submit(codePage, { code }, { action: '/code', stopAt: REDIRECT_URI });
    expect(labels(page).sort()).toEqual(['Shared North', 'Shared Other', 'Shared South']);
    const done = await choose(browser, page, 'Shared Other');
    expect((await rp.finish(flow, done.url)).claims()).toMatchObject({ sub: ids.other, email: EMAIL, email_verified: true });
  });
});
