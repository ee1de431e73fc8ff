/**
 * Console sign-in with the fetch browser: the first operator signs in through the console app's OIDC flow, lands on
 * the console, and signs out; without a session the console shows its landing page and refuses form posts.
 */
import { startServer, type TestServer } from '../support/server.js';
import { Browser } from '../support/browser.js';
import { signIn, startConsole, csrfOf, type FirstOperator } from './console-support.js';

let server: TestServer;
let first: FirstOperator;

beforeAll(async () => {
  server = await startServer();
  first = await startConsole(server);
});
afterAll(() => server.close());

describe('console sign-in', () => {
  it('creates the console app once, with its operators tenant and the first operator as owner', async () => {
    expect(first.email).toBe('admin@localhost');
    expect((await server.portcullis.console.start()).firstOperator).toBeUndefined();
    const members = await server.admin.ok('GET', '/apps/console/tenants/operators/members');
    expect(members).toHaveLength(1);
    expect(members[0].roles).toEqual(['owner']);
  });

  it('shows the landing page without a session, and refuses a form post', async () => {
    const browser = new Browser(server.url);
    const landing = await browser.follow('/console');
    expect(landing.status).toBe(200);
    expect(landing.html).toContain('href="/console/login"');
    const post = await browser.request('/console/apps', { method: 'POST', body: new URLSearchParams({ slug: 'x', name: 'X' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(post.status).toBe(403);
    expect(await post.text()).toContain('signed out of the console');
  });

  it('signs the operator in through OIDC, and out again', async () => {
    const { browser, page } = await signIn(server, first.email, first.password);
    expect(page.url).toBe(`${server.url}/console`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('admin@localhost');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(browser.cookieNames()).toContain('console_session@/console');
    const out = await browser.request('/console/logout', { method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(page) }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toContain('/apps/console/session/end');
    const after = await browser.follow('/console');
    expect(after.html).toContain('href="/console/login"');
  });

  it('sets the console up again when its app was deleted, with a new first operator', async () => {
    await server.admin.ok('DELETE', '/apps/console');
    const again = await server.portcullis.console.start();
    expect(again.firstOperator?.password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(again.firstOperator!.password).not.toBe(first.password);
    const { page } = await signIn(server, again.firstOperator!.email, again.firstOperator!.password!);
    expect(page.url).toBe(`${server.url}/console`);
    expect(page.html).toContain('(Owner)');
  });
});
