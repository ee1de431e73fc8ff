/** Deliver mode end to end: a code sign-in whose email travels through a real SMTP server started by the test. */
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { Browser } from '../support/browser.js';
import { open, REDIRECT_URI, setUpRp, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let smtp: SMTPServer;
let server: TestServer;
let rp: Rp;
const received: Array<{ to: string[]; raw: string }> = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk) => (raw += String(chunk)));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  server = await startServer({ env: { SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Portcullis <no-reply@portal.test>' } });
  rp = await setUpRp(server, 'delivered');
  await server.admin.ok('PATCH', '/apps/delivered', { settings: { messaging: { mode: 'deliver', sender_name: 'Northwind Portal', sender_address: 'portal@northwind.test' } } });
  await server.admin.ok('POST', '/apps/delivered/accounts', { email: 'reader@example.com' });
});
afterAll(async () => {
  await server.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

it('emails the code through SMTP and signs in with it', async () => {
  const browser = new Browser(server.url);
  const flow = await rp.begin();
  const start = await open(browser, flow);
  const page = await browser.submit(start, { identifier: 'reader@example.com' }, { formaction: `${new URL(start.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
  const deadline = Date.now() + 5000;
  while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(received).toHaveLength(1);
  const mail = received[0];
  expect(mail.to).toEqual(['reader@example.com']);
  expect(mail.raw).toMatch(/^From: .*Northwind Portal.*<portal@northwind\.test>/m);
  expect(mail.raw).toMatch(/^Subject: .+/m);
  const code = /\b(\d{6})\b/.exec(mail.raw.split(/\r?\n\r?\n/).slice(1).join('\n'))![1];
  const done = await browser.submit(page, { code }, { action: '/code', stopAt: REDIRECT_URI });
  expect((await rp.finish(flow, done.url)).claims()!.email).toBe('reader@example.com');
  const outbox = await server.admin.ok('GET', '/apps/delivered/outbox');
  expect(outbox.at(-1)).toMatchObject({ status: 'sent', to: 'reader@example.com' });
});

/** The body of a received mail with quoted-printable soft breaks and escapes undone. */
function bodyOf(raw: string): string {
  return raw.split(/\r?\n\r?\n/).slice(1).join('\n').replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

async function receivedBy(to: string): Promise<{ raw: string }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const mail = received.find((m) => m.to.includes(to));
    if (mail) return mail;
    if (Date.now() > deadline) throw new Error(`no mail to ${to}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function outboxEntry(slug: string, to: string, status = 'sent'): Promise<any> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const entry = (await server.admin.ok('GET', `/apps/${slug}/outbox`)).filter((m: any) => m.to === to).at(-1);
    if (entry?.status === status) return entry;
    if (Date.now() > deadline) throw new Error(`no ${status} outbox entry to ${to}: ${JSON.stringify(entry)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the outbox of deliver mode keeps the delivery record, not the secrets', () => {
  it('redacts the sign-in code from the stored text and HTML', async () => {
    const browser = new Browser(server.url);
    const start = await open(browser, await rp.begin());
    await server.admin.ok('POST', '/apps/delivered/accounts', { email: 'coder@example.com' });
    await browser.submit(start, { identifier: 'coder@example.com' }, { formaction: `${new URL(start.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
    const code = /\b(\d{6})\b/.exec(bodyOf((await receivedBy('coder@example.com')).raw))![1];
    const entry = await outboxEntry('delivered', 'coder@example.com');
    expect(entry).toMatchObject({ channel: 'email', to: 'coder@example.com', status: 'sent' });
    expect(entry.subject).toMatch(/sign-in code/);
    expect(JSON.stringify(entry)).not.toContain(code);
    expect(entry.text).toContain('[redacted]');
    expect(entry.html).toContain('[redacted]');
    // The stored record itself (what a backup holds): delivery attempts kept, code gone.
    const app = (await server.stores.apps.findBySlug('delivered'))!;
    const record = (await server.stores.outbox.list(app.id)).find((m) => m.id === entry.id)!;
    expect(record).toMatchObject({ to: 'coder@example.com', status: 'sent', attempts: 1 });
    expect(JSON.stringify(record)).not.toContain(code);
  });

  it('redacts the link (and its token) of an invitation, which the person still receives whole', async () => {
    await server.admin.ok('POST', '/apps/delivered/invitations', { email: 'invited@example.com' });
    const mail = bodyOf((await receivedBy('invited@example.com')).raw);
    const link = new RegExp(`${server.url.replace(/[.]/g, '\\.')}/apps/delivered/[^\\s"<]+`).exec(mail)![0];
    const token = link.split('/').at(-1)!;
    expect(token.length).toBeGreaterThan(16);
    const entry = await outboxEntry('delivered', 'invited@example.com');
    expect(entry).toMatchObject({ to: 'invited@example.com', status: 'sent' });
    expect(entry.subject).toBeTruthy();
    const stored = JSON.stringify(entry);
    expect(stored).not.toContain(link);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(encodeURIComponent(token));
    expect(entry.text).toContain('[redacted]');
    expect(entry.html).toContain('[redacted]');
  });

  it('keeps codes and links in simulate mode, where reading them is the point', async () => {
    await server.admin.ok('POST', '/apps', { slug: 'simulated', name: 'Simulated' });
    await server.admin.ok('PATCH', '/apps/simulated', { settings: { messaging: { mode: 'simulate' } } });
    await server.admin.ok('POST', '/apps/simulated/invitations', { email: 'sim@example.com' });
    const entry = await outboxEntry('simulated', 'sim@example.com', 'simulated');
    expect(entry.text).not.toContain('[redacted]');
    expect(entry.text).toMatch(new RegExp(`${server.url.replace(/[.]/g, '\\.')}/apps/simulated/\\S+`));
    expect(received.some((m) => m.to.includes('sim@example.com'))).toBe(false);
  });
});
