/**
 * Real-browser harness: Debian's Chromium driven by playwright-core. It sees what the fetch-based browser in
 * `browser.ts` cannot: Content-Security-Policy (including `form-action` on the redirects after a form post), cookies'
 * SameSite rules, how a browser follows a 303 after POST, autofocus.
 *
 * One browser per test file (`launchChromium` in `beforeAll`), one fresh context per test (`openPage`): no cookie or
 * storage leaks between tests. Every page records what a person would never see but a developer must: console
 * errors, uncaught page errors, failed requests, and the browser's own issue reports (DevTools "Issues": CSP
 * violations, cookies it refused). Our pages run no script, so a `securitypolicyviolation` listener cannot be
 * injected; Chromium reports violations to the console ("Refused to …", "… violates the following Content Security
 * Policy directive …") and to the Audits domain, and both are collected here.
 */
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's package; a browser is never downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

/** Launches Chromium. Playwright gives each launch a fresh temporary profile (user-data-dir) and removes it on close. */
export async function launchChromium(): Promise<Chromium> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
  return { browser, close: () => browser.close() };
}

/** Something the browser reported while the test ran. */
export interface Problem {
  kind: 'console' | 'pageerror' | 'requestfailed' | 'csp' | 'cookie' | 'http';
  text: string;
  url?: string;
}

export interface BrowserPage {
  context: BrowserContext;
  page: Page;
  /** Everything reported so far, in order. */
  problems: Problem[];
  /** Audits issues of any kind, for a look while developing (e.g. form-label hints); not asserted. */
  issues: unknown[];
  /** The Content-Security-Policy of each HTML document the page loaded, by URL. */
  policies: Map<string, string>;
  close(): Promise<void>;
}

/** A CSP violation in any of the forms Chromium words them. */
export const CSP_MESSAGE = /Content Security Policy|Refused to (load|apply|execute|send|frame|connect)|violates the following/i;

/**
 * A fresh context (own cookie jar) and page, with every problem recorded. HTTP 4xx/5xx answers for documents are
 * recorded too (Chromium logs them as "Failed to load resource"), so a test that lands on an error page says so.
 */
export async function openPage(chromiumInstance: Chromium): Promise<BrowserPage> {
  const context = await chromiumInstance.browser.newContext({ viewport: { width: 800, height: 900 } });
  const page = await context.newPage();
  const problems: Problem[] = [];
  const issues: unknown[] = [];
  const policies = new Map<string, string>();

  page.on('console', (message) => {
    if (message.type() !== 'error' && !CSP_MESSAGE.test(message.text())) return;
    const where = message.location().url || page.url();
    problems.push({ kind: CSP_MESSAGE.test(message.text()) ? 'csp' : 'console', text: `${message.text().trim()} (on ${short(where)})`, url: where });
  });
  page.on('pageerror', (error) => problems.push({ kind: 'pageerror', text: String(error), url: page.url() }));
  page.on('requestfailed', (request) => {
    problems.push({ kind: 'requestfailed', text: `${request.method()} ${short(request.url())}: ${request.failure()?.errorText ?? 'failed'}`, url: request.url() });
  });
  page.on('response', async (response) => {
    const type = response.request().resourceType();
    if (type === 'document') {
      const csp = await response.headerValue('content-security-policy').catch(() => null);
      if (csp) policies.set(response.url(), csp);
    }
    if (response.status() >= 400) problems.push({ kind: 'http', text: `${response.status()} ${type} ${short(response.url())}`, url: response.url() });
  });

  const cdp = await context.newCDPSession(page);
  cdp.on('Audits.issueAdded', ({ issue }: { issue: { code: string; details: Record<string, any> } }) => {
    issues.push(issue);
    const csp = issue.details.contentSecurityPolicyIssueDetails;
    if (issue.code === 'ContentSecurityPolicyIssue' && csp) {
      problems.push({
        kind: 'csp',
        text: `CSP ${csp.violatedDirective} blocked ${csp.blockedURL ?? csp.contentSecurityPolicyViolationType}`,
        url: csp.blockedURL,
      });
    }
    const cookie = issue.details.cookieIssueDetails;
    // Only cookies the browser refused to store or send; warnings about the future are not failures.
    if (issue.code === 'CookieIssue' && cookie?.cookieExclusionReasons?.length) {
      problems.push({
        kind: 'cookie',
        text: `cookie ${cookie.cookie?.name ?? cookie.rawCookieLine ?? ''} ${cookie.operation}: ${cookie.cookieExclusionReasons.join(', ')}`,
        url: cookie.cookieUrl,
      });
    }
  });
  await cdp.send('Audits.enable');

  return {
    context,
    page,
    problems,
    issues,
    policies,
    async close() {
      await context.close();
    },
  };
}

/**
 * Fails with every recorded problem listed. Chromium delivers console and audit events asynchronously, so this
 * waits a moment for stragglers before looking.
 */
export async function expectNoProblems(tab: BrowserPage): Promise<void> {
  await settle(tab.page);
  if (tab.problems.length) {
    throw new Error(`the browser reported ${tab.problems.length} problem(s):\n${list(tab.problems)}`);
  }
}

/**
 * Waits until the page is at a URL starting with `prefix` and loaded. Fails early, naming what the browser reported,
 * when a CSP violation or failed request happens first (a blocked navigation leaves the page where it was, so
 * waiting for the URL alone would only time out).
 */
export async function arrive(tab: BrowserPage, prefix: string, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (tab.page.url().startsWith(prefix)) {
      await tab.page.waitForLoadState('load');
      return;
    }
    const blocking = tab.problems.filter((p) => p.kind === 'csp' || p.kind === 'requestfailed' || p.kind === 'pageerror');
    if (blocking.length || Date.now() > deadline) {
      await settle(tab.page);
      // A navigation blocked by CSP is reported twice: the aborted request at once, the violation a little later.
      // Give the violation a moment, so the failure names the directive rather than only the aborted request.
      if (!tab.problems.some((p) => p.kind === 'csp')) await new Promise((resolve) => setTimeout(resolve, 500));
      const policy = tab.policies.get(tab.page.url());
      throw new Error(
        `the browser did not reach ${prefix}; it is still at ${short(tab.page.url())}` +
          (policy ? `\n  whose Content-Security-Policy is: ${policy}` : '') +
          (tab.problems.length ? `\n  and reported:\n${list(tab.problems)}` : '\n  and reported nothing'),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function list(problems: Problem[]): string {
  return problems.map((p) => `    [${p.kind}] ${p.text}`).join('\n');
}

/** A URL without its query (which can hold an ID token), for messages. */
function short(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}

/** Lets pending console/audit events arrive. */
export async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('load').catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 100));
}

/**
 * The element that has focus, as `#id`, else `[name=…][value=…]` (a submit button); `none` when nothing has it.
 * Autofocus is applied shortly after load, so this waits for it a moment.
 */
export async function focused(page: Page): Promise<string> {
  const element = page.locator(':focus');
  try {
    await element.waitFor({ timeout: 2000 });
  } catch {
    return 'none';
  }
  const [id, name, value] = await Promise.all(['id', 'name', 'value'].map((a) => element.getAttribute(a)));
  if (id) return `#${id}`;
  return `[name=${name ?? ''}]${value ? `[value=${value}]` : ''}`;
}

/** Saves a full-page screenshot when `BROWSER_SCREENSHOTS` names a directory (for looking at the pages). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.BROWSER_SCREENSHOTS;
  if (!dir) return;
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/**
 * True when Portcullis's stylesheet was loaded and applied (CSP `style-src 'self'` let it through): the page
 * background is the stylesheet's `--bg`, not the browser's white.
 */
export async function styled(page: Page): Promise<boolean> {
  // A string: this project's TypeScript has no DOM types, and the expression runs in the page anyway.
  return (await page.evaluate('getComputedStyle(document.body).backgroundColor')) === 'rgb(243, 245, 249)';
}

/** The text of the relying party's claim cell (see another-origin-rp.ts). */
export async function claim(page: Page, name: string): Promise<string | null> {
  const cell = page.locator(`[data-claim="${name}"]`);
  return (await cell.count()) ? cell.textContent() : null;
}
