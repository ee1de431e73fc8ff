/**
 * Console test helpers: start the console as main.ts does (its first start creates the `console` app and the first
 * operator with a random password), add operators with a role, and sign in through the console's own OIDC flow
 * with the fetch browser.
 */
import { Browser, type Page } from '../support/browser.js';
import type { TestServer } from '../support/server.js';

export interface FirstOperator {
  email: string;
  password: string;
}

export async function startConsole(server: TestServer): Promise<FirstOperator> {
  const { firstOperator } = await server.portcullis.console.start();
  if (!firstOperator?.password) throw new Error('the first start on the embedded store gives the first operator a password');
  return { email: firstOperator.email, password: firstOperator.password };
}

/** An operator with `role`, created through the ordinary Admin API on the `console` app. */
export async function addOperator(server: TestServer, email: string, password: string, role: 'owner' | 'admin' | 'viewer'): Promise<void> {
  const account = await server.admin.ok('POST', '/apps/console/accounts', { email, password, email_verified: true });
  await server.admin.ok('PUT', `/apps/console/tenants/operators/members/${account.id}`, { roles: [role] });
}

/** Signs in to the console with the fetch browser; the console's home page. */
export async function signIn(server: TestServer, email: string, password: string): Promise<{ browser: Browser; page: Page }> {
  const browser = new Browser(server.url);
  const login = await browser.follow('/console/login');
  if (!login.html.includes('name="password"')) throw new Error(`no password field at ${login.url}: ${login.html.slice(0, 500)}`);
  const page = await browser.submit(login, { identifier: email, password }, { action: '/login' });
  return { browser, page };
}

/** The CSRF token of the first console form on a page. */
export function csrfOf(page: Page): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page.html);
  if (!match) throw new Error(`no CSRF token on ${page.url}`);
  return match[1];
}
