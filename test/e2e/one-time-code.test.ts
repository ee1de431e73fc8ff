import { Browser, type Page } from '../support/browser.js';
import { open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import { codeIn, exhaustCode, lastMessage, messagesTo, skipSendWait } from '../support/outbox.js';
import { startServer, type TestServer } from '../support/server.js';
import { codeKeys as keysOfCode } from '../../src/sign-in/one-time-code-secret.js';
import { sendWaitKey } from '../../src/sign-in/identifier.js';

let server: TestServer;
let rp: Rp;
let accountId: string;

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, 'court');
  await server.admin.ok('PATCH', '/apps/court', { settings: { login_methods: ['email_code', 'sms_code'] } });
  accountId = (await server.admin.ok('POST', '/apps/court/accounts', { email: 'client@example.com', phone_number: '+14155550123', name: 'Client' })).id;
});
afterAll(() => server.close());

/** The code in the newest message to `to` not read yet (a resend must bring a new message). */
const seen = new Set<string>();
async function lastCode(to: string): Promise<string> {
  const message = await lastMessage(server, 'court', to, (m) => !seen.has(m.id));
  seen.add(message.id);
  return codeIn(message);
}

async function requestCode(browser: Browser, identifier: string, channel = 'email'): Promise<{ page: Page; flow: Awaited<ReturnType<Rp['begin']>> }> {
  await skipSendWait(server, 'court', identifier.includes('@') ? identifier : identifier.replace(/[\s().-]/g, ''));
  const flow = await rp.begin();
  const start = await open(browser, flow);
  const page = await browser.submit(start, { identifier }, { formaction: `${new URL(start.url).pathname}/code/send`, button: { name: 'channel', value: channel } });
  return { page, flow };
}

const enter = (browser: Browser, page: Page, code: string) => browser.submit(page, { code }, { action: '/code', stopAt: REDIRECT_URI });

describe('sign-in with a code by email or SMS', () => {
  it('signs in with an emailed code and marks the email verified', async () => {
    const browser = new Browser(server.url);
    const { page, flow } = await requestCode(browser, 'Client@Example.com');
    expect(page.html).toContain('name="code"');
    const done = await enter(browser, page, await lastCode('client@example.com'));
    const tokens = await rp.finish(flow, done.url);
    expect(tokens.claims()).toMatchObject({ sub: accountId, email: 'client@example.com', email_verified: true, amr: ['otp', 'email'] });
  });

  it('signs in with a texted code and marks the phone verified', async () => {
    const browser = new Browser(server.url);
    const { page, flow } = await requestCode(browser, '+1 415 555 0123', 'sms');
    const outbox = await server.admin.ok('GET', '/apps/court/outbox');
    expect(outbox.at(-1)).toMatchObject({ channel: 'sms', to: '+14155550123' });
    const done = await enter(browser, page, await lastCode('+14155550123'));
    const tokens = await rp.finish(flow, done.url);
    expect(tokens.claims()!.sub).toBe(accountId);
    const account = await server.admin.ok('GET', `/apps/court/accounts/${accountId}`);
    expect(account.phone_number_verified).toBe(true);
  });

  it('answers the same page for an unknown identifier and sends nothing', async () => {
    const before = (await server.admin.ok('GET', '/apps/court/outbox')).length;
    const known = await requestCode(new Browser(server.url), 'client@example.com');
    const unknown = await requestCode(new Browser(server.url), 'stranger@example.com');
    const strip = (p: Page) => p.html.replace(/name="_csrf" value="[^"]*"/g, '').replace(/\/interaction\/[^/"]+/g, '/interaction/X').replace(/client@example\.com|stranger@example\.com/g, 'ID');
    expect(unknown.page.status).toBe(known.page.status);
    expect(strip(unknown.page)).toBe(strip(known.page));
    expect((await server.admin.ok('GET', '/apps/court/outbox')).length).toBe(before + 1);
  });

  it('kills a code after 5 wrong tries: the 6th fails even with the right code', async () => {
    const browser = new Browser(server.url);
    const { page: first } = await requestCode(browser, 'client@example.com');
    const page = await exhaustCode((p, c) => enter(browser, p, c), first, await lastCode('client@example.com'));
    expect(page.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(page.html).toContain('can no longer be used');
  });

  it('refuses a resend within 30 seconds', async () => {
    const browser = new Browser(server.url);
    const { page } = await requestCode(browser, 'client@example.com');
    const again = await browser.submit(page, {}, { action: '/code/send' });
    expect(again.html).toContain('Please wait 30 seconds');
  });

  it('applies the resend wait per person: two browsers asking within a second get one code', async () => {
    await server.admin.ok('POST', '/apps/court/accounts', { email: 'twice@example.com' });
    const first = await requestCode(new Browser(server.url), 'twice@example.com');
    const flow = await rp.begin();
    const other = new Browser(server.url);
    const start = await open(other, flow);
    const second = await other.submit(start, { identifier: 'twice@example.com' }, { formaction: `${new URL(start.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
    expect(first.page.html).toContain('name="code"');
    expect(second.html).toContain('Please wait 30 seconds');
    await lastCode('twice@example.com');
    expect((await messagesTo(server, 'court', 'twice@example.com'))).toHaveLength(1);
  });

  /** The ephemeral-store keys of the code of the interaction `page` belongs to. */
  async function codeKeys(page: Page) {
    const app = (await server.portcullis.services.apps.find('court'))!;
    const uid = /\/interaction\/([^/]+)/.exec(page.url)![1];
    return { ...keysOfCode({ app, uid }, 'otp'), resend: (identifier: string) => sendWaitKey(app.id, identifier) };
  }

  it('refuses an expired code, and the account\'s sign-in history says so', async () => {
    const { id } = await server.admin.ok('POST', '/apps/court/accounts', { email: 'late@example.com' });
    const browser = new Browser(server.url);
    const { page } = await requestCode(browser, 'late@example.com');
    const code = await lastCode('late@example.com');
    await server.stores.ephemeral.delete((await codeKeys(page)).code); // what the 10-minute TTL does
    const after = await enter(browser, page, code);
    expect(after.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(after.html).toContain('expired');
    const [latest] = await server.admin.ok('GET', `/apps/court/accounts/${id}/sign-ins`);
    expect(latest).toMatchObject({ result: 'failed', method: 'email_code', reason: 'code_expired', ip: '127.0.0.1' });
  });

  it('accepts only the newest code after a resend', async () => {
    await server.admin.ok('POST', '/apps/court/accounts', { email: 'resend@example.com' });
    const browser = new Browser(server.url);
    let { page } = await requestCode(browser, 'resend@example.com');
    const older = await lastCode('resend@example.com');
    await server.stores.ephemeral.delete((await codeKeys(page)).resend('resend@example.com')); // 30 seconds later
    page = await browser.submit(page, {}, { action: '/code/send' });
    const newer = await lastCode('resend@example.com');
    if (newer === older) return; // one chance in a million: the test proves nothing then
    page = await enter(browser, page, older);
    expect(page.html).toContain('That code is not right');
    page = await enter(browser, page, newer);
    expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('spends no send cap on resends the wait refused', async () => {
    await server.admin.ok('POST', '/apps/court/accounts', { email: 'patient@example.com' });
    const browser = new Browser(server.url);
    const { page } = await requestCode(browser, 'patient@example.com');
    for (let i = 0; i < 6; i++) expect((await browser.submit(page, {}, { action: '/code/send' })).html).toContain('Please wait 30 seconds');
    // Four more sends (the wait skipped each time) make the hour's five: none was spent by the refusals.
    for (let i = 0; i < 4; i++) expect((await requestCode(new Browser(server.url), 'patient@example.com')).page.html).toContain('name="code"');
    expect((await requestCode(new Browser(server.url), 'patient@example.com')).page.html).toContain('Too many codes were requested');
    // Messages are written without making the person wait: give the last one a moment.
    let sent = await messagesTo(server, 'court', 'patient@example.com');
    for (const deadline = Date.now() + 3000; sent.length < 5 && Date.now() < deadline; sent = await messagesTo(server, 'court', 'patient@example.com')) await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(5);
  });

  it('caps sends at 5 per identifier per hour, for known and unknown identifiers alike', async () => {
    for (const identifier of ['capped@example.com', 'client-capped@example.com']) {
      if (identifier.startsWith('client')) await server.admin.ok('POST', '/apps/court/accounts', { email: identifier });
      for (let i = 0; i < 5; i++) {
        const { page } = await requestCode(new Browser(server.url), identifier);
        expect(page.html).toContain('name="code"');
      }
      const { page } = await requestCode(new Browser(server.url), identifier);
      expect(page.html).toContain('Too many codes were requested');
      expect(page.html).not.toContain('name="code"');
    }
  });
});
