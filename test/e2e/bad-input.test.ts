/**
 * Hostile and malformed input on the sign-in forms: every interaction POST answers a clear 4xx, or a 303 back to
 * the form with the generic message; never a 500. The server keeps answering /healthz throughout.
 */
import { Browser, choices, type Page } from '../support/browser.js';
import { open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

const SLUG = 'forms';
const PASSWORD = 'correct horse battery';
const INVALID_CREDENTIALS = 'Invalid email or password';
const FORM = 'application/x-www-form-urlencoded';
const ENDPOINTS = ['login', 'select', 'consent', 'abort'] as const;

let server: TestServer;
let firstParty: Rp;
let thirdParty: Rp;

beforeAll(async () => {
  server = await startServer();
  firstParty = await setUpRp(server, SLUG);
  thirdParty = await setUpRp(server, SLUG, { name: 'Partner Portal', first_party: false });
  await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
  const multi = await server.admin.ok('POST', `/apps/${SLUG}/accounts`, { email: 'multi@example.com', password: PASSWORD, name: 'Multi' });
  for (const slug of ['north', 'south']) {
    await server.admin.ok('POST', `/apps/${SLUG}/tenants`, { slug, name: `Tenant ${slug}` });
    await server.admin.ok('PUT', `/apps/${SLUG}/tenants/${slug}/members/${multi.id}`, { roles: ['member'] });
  }
});
afterAll(() => server.close());

interface Interaction {
  browser: Browser;
  page: Page;
  /** `/apps/forms/interaction/{uid}` */
  base: string;
  csrf: string;
}

function csrfOf(page: Page): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page.html);
  if (!match) throw new Error(`no CSRF token on ${page.url}:\n${page.html.slice(0, 500)}`);
  return match[1];
}

/** Starts a sign-in and stops on the sign-in page. */
async function startInteraction(rp: Rp = firstParty): Promise<Interaction> {
  const browser = new Browser(server.url);
  const page = await open(browser, await rp.begin());
  expect(page.status).toBe(200);
  expect(page.url).toContain('/interaction/');
  return { browser, page, base: new URL(page.url).pathname, csrf: csrfOf(page) };
}

/** Signs in with a password and stops on the next page (tenant choice or consent). */
async function signInTo(rp: Rp, email: string): Promise<Interaction> {
  const started = await startInteraction(rp);
  const page = await started.browser.submit(started.page, { identifier: email, password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
  expect(page.status).toBe(200);
  return { ...started, page, csrf: csrfOf(page) };
}

/** POSTs a raw body to one of the interaction's endpoints, as the browser (its cookies) would. */
function post(ix: Interaction, endpoint: string, body: string | URLSearchParams | Uint8Array, contentType = FORM, accept = 'text/html'): Promise<Response> {
  return ix.browser.request(`${ix.base}/${endpoint}`, { method: 'POST', body, headers: { 'content-type': contentType, accept } });
}

/** A form body from pairs, so a field may appear twice. */
function form(...pairs: Array<[string, string]>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of pairs) body.append(k, v);
  return body;
}

/** A 303 back to the interaction page, which then shows `message` (and nothing else went wrong). */
async function expectRetry(ix: Interaction, res: Response, message: string): Promise<Page> {
  expect(res.status).toBe(303);
  const location = new URL(res.headers.get('location')!, server.url);
  expect(location.pathname).toBe(ix.base);
  await res.arrayBuffer();
  const page = await ix.browser.follow(location.href);
  expect(page.status).toBe(200);
  expect(page.html).toContain(message);
  return page;
}

/** A 4xx error page (HTML for browsers) with the given status. */
async function expectErrorPage(res: Response, status: number): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('text/html');
  const html = await res.text();
  expect(html).not.toMatch(/server_error|at .*\.ts:\d+|Error: /);
  return html;
}

async function expectHealthy(): Promise<void> {
  const res = await fetch(`${server.url}/healthz`);
  expect(res.status).toBe(200);
}

const megabyte = (field = 'identifier') => `${field}=${'a'.repeat(1024 * 1024)}`;

describe('the sign-in form (/login)', () => {
  it('answers missing or empty fields with a 303 back to the form and the generic message', async () => {
    const ix = await startInteraction();
    const cases: Array<Array<[string, string]>> = [
      [],
      [['identifier', 'ada@example.com']],
      [['password', PASSWORD]],
      [['identifier', ''], ['password', '']],
      [['identifier', '   '], ['password', PASSWORD]],
      [['identifier', 'ada@example.com'], ['password', '']],
    ];
    for (const fields of cases) {
      const res = await post(ix, 'login', form(['_csrf', ix.csrf], ...fields));
      await expectRetry(ix, res, INVALID_CREDENTIALS);
    }
    await expectHealthy();
  });

  it('refuses a form without the CSRF token (403) before looking at the credentials', async () => {
    const ix = await startInteraction();
    const html = await expectErrorPage(await post(ix, 'login', form(['identifier', 'ada@example.com'], ['password', PASSWORD])), 403);
    expect(html).toContain('forbidden');
    await expectErrorPage(await post(ix, 'login', form(['_csrf', 'forged'], ['identifier', 'ada@example.com'], ['password', PASSWORD])), 403);
  });

  it('refuses duplicated fields with a 400 instead of picking one', async () => {
    const ix = await startInteraction();
    for (const fields of [
      [['identifier', 'ada@example.com'], ['identifier', 'eve@example.com'], ['password', PASSWORD]],
      [['identifier', 'ada@example.com'], ['password', 'wrong password!'], ['password', PASSWORD]],
    ] as Array<Array<[string, string]>>) {
      const html = await expectErrorPage(await post(ix, 'login', form(['_csrf', ix.csrf], ...fields)), 400);
      expect(html).toContain('more than once');
    }
    await expectErrorPage(await post(ix, 'login', form(['_csrf', ix.csrf], ['_csrf', ix.csrf], ['identifier', 'ada@example.com'], ['password', PASSWORD])), 400);
    // Nothing was signed in: the form is still there.
    expect((await ix.browser.follow(ix.base)).html).toContain('name="password"');
  });

  it('answers odd Unicode identifiers with the generic message, escaping what it echoes', async () => {
    const ix = await startInteraction();
    const identifiers = [
      '🙂🙃@example.com',
      '\u202Eada@example.com',
      'ada\u0000@example.com',
      'a\u0301\u0301\u0301@example.com',
      '\u05E9\u05DC\u05D5\u05DD@example.com',
      'x'.repeat(400),
      '"><script>alert(1)</script>',
      "' onmouseover='alert(1)",
      '{"$gt":""}',
    ];
    for (const identifier of identifiers) {
      const page = await expectRetry(ix, await post(ix, 'login', form(['_csrf', ix.csrf], ['identifier', identifier], ['password', PASSWORD])), INVALID_CREDENTIALS);
      expect(page.html).not.toContain('<script>alert(1)');
      expect(page.html).not.toContain("' onmouseover='");
    }
    // Lone surrogates and invalid UTF-8, percent-encoded as raw bytes.
    for (const encoded of ['%ED%A0%80%40example.com', '%FF%FE%40example.com', '%C0%AE%40example.com', '%E0%A4%A']) {
      const res = await post(ix, 'login', `_csrf=${encodeURIComponent(ix.csrf)}&identifier=${encoded}&password=${encodeURIComponent(PASSWORD)}`);
      await expectRetry(ix, res, INVALID_CREDENTIALS);
    }
    await expectHealthy();
  });

  it('answers a 10 kB password with the generic message, also for a real account', async () => {
    const ix = await startInteraction();
    for (const identifier of ['ada@example.com', 'nobody@example.com']) {
      const res = await post(ix, 'login', form(['_csrf', ix.csrf], ['identifier', identifier], ['password', 'p'.repeat(10 * 1024)]));
      await expectRetry(ix, res, INVALID_CREDENTIALS);
    }
  });

  it('refuses a 10 kB emoji password, which percent-encodes past the 16 kB form limit, with 413', async () => {
    const ix = await startInteraction();
    const password = '🔑'.repeat(2600); // 10.4 kB of UTF-8, about 31 kB once percent-encoded
    expect(Buffer.byteLength(password)).toBeGreaterThan(10 * 1024);
    await expectErrorPage(await post(ix, 'login', form(['_csrf', ix.csrf], ['identifier', 'ada@example.com'], ['password', password])), 413);
    // A long but encodable emoji password (2 kB of UTF-8) gets the generic message.
    await expectRetry(ix, await post(ix, 'login', form(['_csrf', ix.csrf], ['identifier', 'ada@example.com'], ['password', '🔑'.repeat(512)])), INVALID_CREDENTIALS);
  });

  it('still signs in with the right password after all that junk in the same interaction', async () => {
    const ix = await startInteraction();
    await post(ix, 'login', form(['_csrf', ix.csrf], ['identifier', '\u0000'], ['password', 'x'.repeat(5000)])).then((r) => r.arrayBuffer());
    const page = await ix.browser.submit(ix.page, { identifier: 'ada@example.com', password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
    expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
    expect(new URL(page.url).searchParams.get('code')).toEqual(expect.any(String));
  });
});

describe('every interaction POST endpoint', () => {
  it.each(ENDPOINTS)('/%s refuses a JSON body with 415', async (endpoint) => {
    const ix = await startInteraction();
    const body = JSON.stringify({ _csrf: ix.csrf, identifier: 'ada@example.com', password: PASSWORD, choice: 'x', decision: 'allow' });
    await expectErrorPage(await post(ix, endpoint, body, 'application/json'), 415);
    const asJson = await post(ix, endpoint, body, 'application/json', 'application/json');
    expect(asJson.status).toBe(415);
    expect(await asJson.json()).toEqual({ error: 'unsupported_media_type', error_description: expect.any(String) });
  });

  it.each(ENDPOINTS)('/%s refuses other content types (text/plain, multipart, none) with 415', async (endpoint) => {
    const ix = await startInteraction();
    await expectErrorPage(await post(ix, endpoint, `_csrf=${ix.csrf}`, 'text/plain'), 415);
    await expectErrorPage(await post(ix, endpoint, `--b\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${ix.csrf}\r\n--b--`, 'multipart/form-data; boundary=b'), 415);
    const noType = await ix.browser.request(`${ix.base}/${endpoint}`, { method: 'POST', body: new Blob([`_csrf=${ix.csrf}`]) });
    await expectErrorPage(noType, 415);
  });

  it.each(ENDPOINTS)('/%s refuses a 1 MB form with 413 and stays up', async (endpoint) => {
    const ix = await startInteraction();
    const html = await expectErrorPage(await post(ix, endpoint, `_csrf=${ix.csrf}&${megabyte()}`), 413);
    expect(html).toContain('too large');
    await expectHealthy();
    // The interaction is unharmed: its page still renders.
    expect((await ix.browser.follow(ix.base)).status).toBe(200);
  });

  it('/login refuses a 1 MB form streamed without Content-Length with 413, and the connection stays usable', async () => {
    const ix = await startInteraction();
    const chunk = new TextEncoder().encode('a'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode(`_csrf=${ix.csrf}&identifier=`));
        if (sent++ < 16) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await ix.browser.request(`${ix.base}/login`, { method: 'POST', body, headers: { 'content-type': FORM }, duplex: 'half' } as RequestInit);
    await expectErrorPage(res, 413);
    for (let i = 0; i < 3; i++) await expectHealthy();
  });

  it.each(ENDPOINTS)('/%s refuses a form without the CSRF token with 403', async (endpoint) => {
    const ix = await startInteraction();
    await expectErrorPage(await post(ix, endpoint, form(['choice', 'x'], ['decision', 'allow'])), 403);
  });

  it.each(ENDPOINTS)('/%s refuses a duplicated field with 400', async (endpoint) => {
    const ix = await startInteraction();
    await expectErrorPage(await post(ix, endpoint, form(['_csrf', ix.csrf], ['_csrf', ix.csrf])), 400);
  });
});

describe('the selection form (/select)', () => {
  it('without a sign-in in progress, sends the browser back to the sign-in page (303)', async () => {
    const ix = await startInteraction();
    const res = await post(ix, 'select', form(['_csrf', ix.csrf], ['choice', 'anything']));
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!, server.url).pathname).toBe(ix.base);
  });

  it('answers a missing, unknown or odd choice with a 303 back to the choices, then accepts a real one', async () => {
    const ix = await signInTo(firstParty, 'multi@example.com');
    const offered = choices(ix.page);
    expect(offered.map((c) => c.label).sort()).toEqual(['Tenant north', 'Tenant south']);
    const outsider = await server.admin.ok('POST', `/apps/${SLUG}/tenants`, { slug: 'outsider', name: 'Outsider' });
    for (const fields of [[], [['choice', '']], [['choice', outsider.id]], [['choice', 'north']], [['choice', '🙂\u202E\u0000']], [['choice', 'c'.repeat(5000)]], [['choice', '{"$ne":null}']]] as Array<Array<[string, string]>>) {
      const page = await expectRetry(ix, await post(ix, 'select', form(['_csrf', ix.csrf], ...fields)), 'Choose one of the options below.');
      expect(choices(page).map((c) => c.value).sort()).toEqual(offered.map((c) => c.value).sort());
    }
    await expectErrorPage(await post(ix, 'select', form(['_csrf', ix.csrf], ['choice', offered[0].value], ['choice', offered[1].value])), 400);

    const done = await ix.browser.submit(await ix.browser.follow(ix.base), {}, { action: '/select', button: { name: 'choice', value: offered[1].value }, stopAt: REDIRECT_URI });
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    expect(new URL(done.url).searchParams.get('code')).toEqual(expect.any(String));
  });
});

describe('the consent form (/consent)', () => {
  it('without a sign-in in progress, sends the browser back to the sign-in page (303)', async () => {
    const ix = await startInteraction(thirdParty);
    const res = await post(ix, 'consent', form(['_csrf', ix.csrf], ['decision', 'allow']));
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!, server.url).pathname).toBe(ix.base);
  });

  it('refuses a duplicated decision (400) and keeps the consent page', async () => {
    const ix = await signInTo(thirdParty, 'ada@example.com');
    expect(ix.page.html).toContain('Partner Portal');
    await expectErrorPage(await post(ix, 'consent', form(['_csrf', ix.csrf], ['decision', 'deny'], ['decision', 'allow'])), 400);
    const again = await ix.browser.follow(ix.base);
    expect(again.html).toContain('name="decision"');
  });

  it.each([['no decision', []], ['an odd decision', [['decision', 'ALLOW\u0000🙂']]]] as Array<[string, Array<[string, string]>]>)(
    'treats %s as a refusal: the client receives access_denied',
    async (_name, fields) => {
      const ix = await signInTo(thirdParty, 'ada@example.com');
      const res = await post(ix, 'consent', form(['_csrf', ix.csrf], ...fields));
      expect(res.status).toBe(303);
      const back = await ix.browser.follow(res.headers.get('location')!, REDIRECT_URI);
      expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
      expect(new URL(back.url).searchParams.get('error')).toBe('access_denied');
    },
  );
});

describe('the cancel form (/abort)', () => {
  it('with extra junk fields still cancels cleanly: the client receives access_denied', async () => {
    const ix = await startInteraction();
    const res = await post(ix, 'abort', form(['_csrf', ix.csrf], ['identifier', '🙂'.repeat(100)], ['x\u0000y', '\u202E']));
    expect(res.status).toBe(303);
    const back = await ix.browser.follow(res.headers.get('location')!, REDIRECT_URI);
    expect(new URL(back.url).searchParams.get('error')).toBe('access_denied');
  });

  it('after the interaction is finished, a replayed cancel is a 400 page, not a 500', async () => {
    const ix = await startInteraction();
    const first = await post(ix, 'abort', form(['_csrf', ix.csrf]));
    expect(first.status).toBe(303);
    await ix.browser.follow(first.headers.get('location')!, REDIRECT_URI);
    const replay = await post(ix, 'abort', form(['_csrf', ix.csrf]));
    expect(replay.status).toBeGreaterThanOrEqual(400);
    expect(replay.status).toBeLessThan(500);
    await replay.arrayBuffer();
  });
});

describe('unknown interactions and apps', () => {
  it('an unknown interaction uid is a 400 "expired" page, with or without the sign-in cookies', async () => {
    const fresh = new Browser(server.url);
    const without = await fresh.request(`/apps/${SLUG}/interaction/no-such-uid`);
    expect(await expectErrorPage(without, 400)).toContain('expired');

    const ix = await startInteraction();
    const withCookies = await ix.browser.request(`/apps/${SLUG}/interaction/no-such-uid`);
    expect(await expectErrorPage(withCookies, 400)).toContain('expired');
    for (const endpoint of ENDPOINTS) {
      const res = await ix.browser.request(`/apps/${SLUG}/interaction/no-such-uid/${endpoint}`, { method: 'POST', body: form(['_csrf', ix.csrf]), headers: { 'content-type': FORM } });
      await expectErrorPage(res, 400);
    }
  });

  it('answers an unknown uid in JSON for API callers', async () => {
    const res = await fetch(`${server.url}/apps/${SLUG}/interaction/no-such-uid`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'interaction_expired', error_description: expect.any(String) });
  });

  it('odd interaction uids are a clean 4xx', async () => {
    const ix = await startInteraction();
    for (const uid of ['%00', '%E0%A4%A', '%F0%9F%99%82', 'u'.repeat(5000), '..%2F..%2Fadmin', '%ED%A0%80']) {
      const get = await ix.browser.request(`/apps/${SLUG}/interaction/${uid}`);
      expect([uid.slice(0, 20), get.status >= 400 && get.status < 500]).toEqual([uid.slice(0, 20), true]);
      await get.arrayBuffer();
      const res = await ix.browser.request(`/apps/${SLUG}/interaction/${uid}/login`, { method: 'POST', body: form(['_csrf', ix.csrf]), headers: { 'content-type': FORM } });
      expect([uid.slice(0, 20), res.status >= 400 && res.status < 500]).toEqual([uid.slice(0, 20), true]);
      await res.arrayBuffer();
    }
    await expectHealthy();
  });

  it('an unknown app is a 404: JSON for API callers, a page for browsers', async () => {
    const asJson = await fetch(`${server.url}/apps/nope/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
    expect(asJson.status).toBe(404);
    expect(await asJson.json()).toEqual({ error: 'not_found', error_description: expect.any(String) });
    const asPage = await fetch(`${server.url}/apps/nope/.well-known/openid-configuration`, { headers: { accept: 'text/html' } });
    expect(await expectErrorPage(asPage, 404)).toContain('Not found');
    for (const path of ['/apps/nope/interaction/abc', '/apps/nope/auth', '/apps/NOPE/.well-known/openid-configuration', '/apps/-x-/jwks']) {
      const res = await fetch(`${server.url}${path}`, { headers: { accept: 'application/json' } });
      expect([path, res.status]).toEqual([path, 404]);
      await res.arrayBuffer();
    }
    const post = await fetch(`${server.url}/apps/nope/interaction/abc/login`, { method: 'POST', body: 'identifier=x', headers: { 'content-type': FORM } });
    expect(post.status).toBe(404);
    await post.arrayBuffer();
  });

  it('the server is still healthy at the end', async () => {
    await expectHealthy();
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
