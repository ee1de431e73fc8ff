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
