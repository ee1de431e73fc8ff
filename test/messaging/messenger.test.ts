/**
 * Messaging end to end against real servers: a real SMTP server (smtp-server) for email, a real HTTP server for the
 * SMS provider, and real Koa apps for the outbox route and the dev mailbox page. What matters: simulate mode never
 * sends, deliver mode never makes the caller wait or fail, retries are counted, and nothing escapes its escaping.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { jest } from '@jest/globals';
import Koa from 'koa';
import { SMTPServer } from 'smtp-server';
import { ConfigError, DEFAULT_LIFETIMES, loadConfig } from '../../config/index.js';
import { RouteRegistry } from '../../src/admin/route-registry.js';
import type { AdminHelpers } from '../../src/admin/router.js';
import { errorHandler } from '../../src/http/error-handler.js';
import { NotFoundError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import {
  createMessenger, createSmtpTransport, fillBodyTemplate, HttpSmsTransport, MessageRenderer, Messenger,
  messageKinds, senderOf, type EmailTransport, type MessengerLog, type SmsTransport,
} from '../../src/messaging/index.js';
import { devMailboxRouter } from '../../src/messaging/dev-mailbox.js';
import { registerOutboxRoutes } from '../../src/messaging/outbox-routes.js';
import { MemoryAppRepository, MemoryOutboxRepository } from '../../src/storage/memory/repositories.js';
import type { AppRecord, AppSettings, OutboxMessage } from '../../src/storage/ports.js';

const config = loadConfig({ LOG_LEVEL: 'silent', MAIL_FROM: 'Portcullis <no-reply@portcullis.test>' });
const FAST_RETRIES = [5, 10];

let counter = 0;
function makeApp(messaging: Partial<AppSettings['messaging']> = {}, overrides: Partial<AppRecord> = {}): AppRecord {
  counter += 1;
  const now = new Date();
  return {
    id: `app_${counter}`,
    slug: `acme-${counter}`,
    name: 'Acme Portal',
    settings: {
      login_methods: ['password', 'email_code'],
      registration: 'invite_only',
      accounts_per_email: 'one',
      session_ttl_seconds: 3600,
      messaging: { mode: 'simulate', ...messaging },
      locale: 'en',
    },
    version: 1,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/** A logger that records every entry, to check what is logged (and that no code ever is). */
function captureLog() {
  const entries: Array<{ level: string; fields: unknown; msg: unknown }> = [];
  const at = (level: string) => (fields: unknown, msg?: unknown) => { entries.push({ level, fields, msg }); };
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as MessengerLog;
  return { log, entries };
}

function spyTransports() {
  const email = { send: jest.fn(async () => {}), close: jest.fn() } satisfies EmailTransport;
  const sms = { send: jest.fn(async () => {}) } satisfies SmsTransport;
  return { email, sms };
}

// ── A real SMTP server ────────────────────────────────────────────────────────────────────────────────────────────

interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
}

interface TestSmtp {
  url: string;
  received: ReceivedMail[];
  rcptCalls: number;
  /** TCP connections the server accepted. */
  connections: number;
  close(): Promise<void>;
}

async function startSmtp(options: { rejectFirstRcpts?: number; beforeData?: () => Promise<void> } = {}): Promise<TestSmtp> {
  const state: TestSmtp = { url: '', received: [], rcptCalls: 0, connections: 0, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      state.connections += 1;
      callback();
    },
    onRcptTo(_address, _session, callback) {
      state.rcptCalls += 1;
      if (state.rcptCalls <= (options.rejectFirstRcpts ?? 0)) {
        const err = Object.assign(new Error('Mailbox temporarily unavailable'), { responseCode: 451 });
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        await options.beforeData?.();
        const envelope = session.envelope;
        state.received.push({
          from: envelope.mailFrom ? envelope.mailFrom.address : undefined,
          to: envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  state.url = `smtp://127.0.0.1:${port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

/** A loopback port where nothing listens. */
async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The header block of a raw message, unfolded. */
function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split(/\r\n\r\n/)[0].replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

// ── A real HTTP SMS provider ──────────────────────────────────────────────────────────────────────────────────────

interface SmsCall {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

async function startSmsProvider(status = 202): Promise<{ url: string; calls: SmsCall[]; close(): Promise<void> }> {
  const calls: SmsCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{"id":"sms-1"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/messages?key=ignored`,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// ── The catalogue and templates ───────────────────────────────────────────────────────────────────────────────────

describe('message catalogue', () => {
  const renderer = new MessageRenderer();
  const locals = { code: '482913', link: 'https://id.acme.test/apps/acme/link?t=a&b=1', tenantName: 'Smith & Co', url: 'https://hooks.acme.test/in', failingSince: '2026-12-01T10:00:00.000Z', newEmail: 'new@example.test' };

  it('renders every kind by email with a subject, text and html branded with the app name', () => {
    for (const kind of messageKinds) {
      const out = renderer.render({ name: 'Acme Portal' }, { kind, channel: 'email', to: 'ann@example.test', locals });
      expect(out.subject).toContain('Acme Portal');
      expect(out.subject).not.toMatch(/[\r\n]/);
      expect(renderer.render({ name: 'Acme\r\nBcc: x@evil.test' }, { kind, channel: 'email', locals }).subject).not.toMatch(/[\r\n]/);
      expect(out.text).toContain('Acme Portal');
      expect(out.html).toContain('Acme Portal');
      // No external resources in the HTML: no images, scripts, stylesheets or fonts.
      expect(out.html).not.toMatch(/<(img|script|link|iframe|object|embed)\b/i);
      expect(out.html).not.toMatch(/url\(/i);
      expect(out.text).not.toContain('undefined');
      expect(out.html).not.toContain('undefined');
    }
  });

  it('states each validity period in the message', () => {
    const text = (kind: (typeof messageKinds)[number]) => renderer.render({ name: 'A' }, { kind, channel: 'email', locals }).text;
    expect(text('sign_in_code')).toContain('10 minutes');
    expect(text('verify_email')).toContain('15 minutes');
    expect(text('invitation')).toContain('7 days');
    expect(text('password_reset')).toContain('30 minutes');
    // The configured lifetime is what the message states.
    const configured = new MessageRenderer({ ...DEFAULT_LIFETIMES, signInCode: 5 * 60 });
    expect(configured.render({ name: 'A' }, { kind: 'sign_in_code', channel: 'email', locals: { code: '1' } }).text).toContain('5 minutes');
  });

  it('escapes the app name and locals in HTML; text keeps them verbatim', () => {
    const out = renderer.render({ name: 'Acme <script>alert(1)</script>' }, {
      kind: 'invitation', channel: 'email', locals: { link: 'https://x.test/?a="b"&c=<d>', tenantName: '<b>T</b>' },
    });
    expect(out.html).not.toContain('<script>');
    expect(out.html).toContain('Acme &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out.html).toContain('&lt;b&gt;T&lt;/b&gt;');
    expect(out.html).toContain('href="https://x.test/?a=&#34;b&#34;&amp;c=&lt;d&gt;"');
    expect(out.text).toContain('Acme <script>alert(1)</script>');
  });

  it("wears a tenant's branding override when the message names its tenant: name and button colour, the app's support kept", () => {
    const app = { name: 'Acme Portal', settings: { branding: { display_name: 'Acme', primary_color: '#1d4ed8', support_email: 'help@acme.test' } } };
    const tenant = { branding: { display_name: 'Smith Hub', primary_color: '#7c2d12' } };
    const branded = renderer.render(app, { kind: 'password_reset', channel: 'email', to: 'ann@example.test', locals, brandTenant: tenant });
    expect(branded.subject).toBe('Reset your Smith Hub password');
    expect(branded.text).toContain('Smith Hub');
    expect(branded.html).toContain('background:#7c2d12');
    expect(branded.html).toContain('mailto:help@acme.test');
    expect(`${branded.subject} ${branded.text} ${branded.html}`).not.toMatch(/\bAcme\b|#1d4ed8/);
    // A tenant without an override (or none at all): the app's brand.
    for (const brandTenant of [{}, undefined]) {
      const plain = renderer.render(app, { kind: 'password_reset', channel: 'email', locals, brandTenant });
      expect(plain.subject).toBe('Reset your Acme password');
      expect(plain.html).toContain('background:#1d4ed8');
    }
  });

  it('falls back to en for unknown, regional and malformed locales', () => {
    const en = renderer.render({ name: 'A' }, { kind: 'sign_in_code', channel: 'email', locals, locale: 'en' });
    for (const locale of ['it', 'en-GB', '../../etc', 'EN', '']) {
      expect(renderer.render({ name: 'A' }, { kind: 'sign_in_code', channel: 'email', locals, locale })).toEqual(en);
    }
  });

  it('writes every kind in the language of its catalogue: fr, de, es (a region falls back to its language)', () => {
    const fr = renderer.render({ name: 'Acme' }, { kind: 'sign_in_code', channel: 'email', locals, locale: 'fr' });
    expect(fr.subject).toBe('Votre code de connexion à Acme');
    expect(fr.text).toContain('Il est valable 10 minutes');
    expect(fr.html).toContain('<html lang="fr">');
    expect(renderer.render({ name: 'Acme' }, { kind: 'sign_in_code', channel: 'email', locals, locale: 'fr-CA' })).toEqual(fr);
    expect(renderer.render({ name: 'Acme' }, { kind: 'invitation', channel: 'email', locals, locale: 'de' }).text).toContain('7 Tage gültig');
    expect(renderer.render({ name: 'Acme' }, { kind: 'sign_in_code', channel: 'sms', locals, locale: 'es' }).text)
      .toBe('482913 es su código de acceso a Acme. Válido durante 10 minutos. No lo comparta.');
    for (const locale of ['fr', 'de', 'es']) {
      for (const kind of messageKinds) {
        const out = renderer.render({ name: 'Acme' }, { kind, channel: 'email', locals, locale });
        expect(out.text).not.toContain('undefined');
        expect(out.text).not.toContain('messages:');
      }
    }
  });

  it('renders a short single-line SMS for sign_in_code', () => {
    const out = renderer.render({ name: 'Acme\nPortal' }, { kind: 'sign_in_code', channel: 'sms', locals: { code: '482913' } });
    expect(out).toEqual({ text: '482913 is your Acme Portal sign-in code. Valid for 10 minutes. Do not share it.' });
    expect(out.text.length).toBeLessThanOrEqual(160);
  });

  it('rejects programming errors: wrong channel, missing locals, non-http links, unknown kinds', () => {
    const app = { name: 'A' };
    expect(() => renderer.render(app, { kind: 'magic_link', channel: 'sms', locals })).toThrow(/cannot be sent by sms/);
    expect(() => renderer.render(app, { kind: 'sign_in_code', channel: 'email', locals: {} })).toThrow(/needs the local "code"/);
    expect(() => renderer.render(app, { kind: 'magic_link', channel: 'email', locals: { link: 'javascript:alert(1)' } })).toThrow(/http\(s\) URL/);
    expect(() => renderer.render(app, { kind: 'password_changed', channel: 'email', locals: { link: '/relative' } })).toThrow(/http\(s\) URL/);
    expect(() => renderer.render(app, { kind: 'nope' as never, channel: 'email', locals })).toThrow(/Unknown message kind/);
  });
});

describe('senderOf', () => {
  it('uses MAIL_FROM unless the app names a sender, completing a missing half', () => {
    const mailFrom = 'Portcullis <no-reply@portcullis.test>';
    expect(senderOf(makeApp(), mailFrom)).toBe(mailFrom);
    expect(senderOf(makeApp({ sender_name: 'Acme Support', sender_address: 'help@acme.test' }), mailFrom)).toBe('"Acme Support" <help@acme.test>');
    expect(senderOf(makeApp({ sender_address: 'help@acme.test' }), mailFrom)).toBe('"Acme Portal" <help@acme.test>');
    expect(senderOf(makeApp({ sender_name: 'Say "hi" \\ o' }), mailFrom)).toBe('"Say \\"hi\\" \\\\ o" <no-reply@portcullis.test>');
  });
});

// ── Simulate mode ─────────────────────────────────────────────────────────────────────────────────────────────────

describe('Messenger in simulate mode', () => {
  it('stores the rendered text and html with the app name, and sends nothing', async () => {
    const outbox = new MemoryOutboxRepository();
    const transports = spyTransports();
    const { log, entries } = captureLog();
    const messenger = new Messenger({ outbox, config, log, transports });
    const app = makeApp();

    const before = Date.now();
    await messenger.send(app, { channel: 'email', to: 'ann@example.test', kind: 'sign_in_code', locals: { code: '482913' } });
    await messenger.send(app, { channel: 'sms', to: '+14155550100', kind: 'sign_in_code', locals: { code: '777111' } });
    await messenger.drain();

    const [email, sms] = await outbox.list(app.id);
    expect(email).toMatchObject({
      appId: app.id, channel: 'email', to: 'ann@example.test', status: 'simulated', attempts: 0,
      subject: 'Your Acme Portal sign-in code',
      text: expect.stringContaining('482913'),
      html: expect.stringContaining('Acme Portal'),
    });
    expect(email.text).toContain('Acme Portal');
    expect(email.html).toContain('482913');
    expect(email.id).toMatch(/^msg_/);
    const ttl = email.expiresAt.getTime() - email.createdAt.getTime();
    expect(ttl).toBe(config.OUTBOX_TTL_SECONDS * 1000);
    expect(email.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(sms).toMatchObject({ channel: 'sms', to: '+14155550100', status: 'simulated', text: expect.stringContaining('777111') });
    expect(sms.subject).toBeUndefined();
    expect(sms.html).toBeUndefined();

    expect(transports.email.send).not.toHaveBeenCalled();
    expect(transports.sms.send).not.toHaveBeenCalled();
    expect(JSON.stringify(entries)).not.toMatch(/482913|777111|ann@example/);
  });

  it('defaults to simulate when the app has no messaging mode, and uses the app locale', async () => {
    const outbox = new MemoryOutboxRepository();
    const transports = spyTransports();
    const messenger = new Messenger({ outbox, config, log: captureLog().log, transports });
    const app = makeApp();
    (app.settings as { messaging?: unknown }).messaging = undefined;
    app.settings.locale = 'fr';
    await messenger.send(app, { channel: 'email', to: 'a@example.test', kind: 'password_changed', locals: {} });
    const [entry] = await outbox.list(app.id);
    expect(entry.status).toBe('simulated');
    expect(entry.text).toContain('mot de passe'); // the app's locale, now that French has a catalogue
    expect(transports.email.send).not.toHaveBeenCalled();
  });

  it('keeps each app\'s messages apart', async () => {
    const outbox = new MemoryOutboxRepository();
    const messenger = new Messenger({ outbox, config, log: captureLog().log, transports: {} });
    const a = makeApp();
    const b = makeApp({}, { name: 'Beta' });
    await messenger.send(a, { channel: 'email', to: 'x@example.test', kind: 'sign_in_code', locals: { code: '111111' } });
    await messenger.send(b, { channel: 'email', to: 'x@example.test', kind: 'sign_in_code', locals: { code: '222222' } });
    expect((await outbox.list(a.id)).map((m) => m.text)).toEqual([expect.stringContaining('111111')]);
    expect((await outbox.list(b.id)).map((m) => m.subject)).toEqual(['Your Beta sign-in code']);
  });

  it('throws for programming errors before storing anything', async () => {
    const outbox = new MemoryOutboxRepository();
    const messenger = new Messenger({ outbox, config, log: captureLog().log, transports: {} });
    const app = makeApp();
    await expect(messenger.send(app, { channel: 'email', to: 'a@example.test', kind: 'sign_in_code', locals: {} })).rejects.toThrow(TypeError);
    expect(await outbox.list(app.id)).toEqual([]);
  });
});

// ── Deliver mode over real SMTP ───────────────────────────────────────────────────────────────────────────────────

describe('Messenger in deliver mode (email over a real SMTP server)', () => {
  let smtp: TestSmtp | undefined;
  afterEach(async () => {
    await smtp?.close();
    smtp = undefined;
  });

  it('queues, returns at once, then delivers in the background: From, To, Subject and code arrive; status sent', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    smtp = await startSmtp({ beforeData: () => gate });
    const outbox = new MemoryOutboxRepository();
    const { log, entries } = captureLog();
    const email = createSmtpTransport({ url: smtp.url });
    const messenger = new Messenger({ outbox, config, log, transports: { email }, retryDelaysMs: FAST_RETRIES });
    const app = makeApp({ mode: 'deliver', sender_name: 'Acme Support', sender_address: 'support@acme.test' });

    await messenger.send(app, { channel: 'email', to: 'ann@example.test', kind: 'sign_in_code', locals: { code: '482913' } });
    // The SMTP server is still holding the message: send() did not wait for it.
    expect((await outbox.list(app.id))[0]).toMatchObject({ status: 'queued', attempts: 0 });
    expect(smtp.received).toHaveLength(0);

    release();
    await messenger.drain();
    await messenger.close();

    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail.from).toBe('support@acme.test');
    expect(mail.to).toEqual(['ann@example.test']);
    // nodemailer re-writes the address in canonical form (quotes only when needed).
    expect(headerOf(mail.raw, 'From')).toBe('Acme Support <support@acme.test>');
    expect(headerOf(mail.raw, 'To')).toBe('ann@example.test');
    expect(headerOf(mail.raw, 'Subject')).toBe('Your Acme Portal sign-in code');
    expect(mail.raw).toContain('multipart/alternative');
    expect(mail.raw).toContain('482913');

    expect((await outbox.list(app.id))[0]).toMatchObject({ status: 'sent', attempts: 1 });
    expect(entries.some((e) => e.level === 'info' && e.msg === 'message delivered')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('482913');
  });

  it('reuses its SMTP connections: messages one after another go over one connection, at most SMTP_MAX_CONNECTIONS at once', async () => {
    smtp = await startSmtp();
    const outbox = new MemoryOutboxRepository();
    const messenger = createMessenger({ ...config, SMTP_URL: smtp.url, SMTP_MAX_CONNECTIONS: 2 }, outbox, captureLog().log, { retryDelaysMs: FAST_RETRIES });
    const app = makeApp({ mode: 'deliver' });
    for (const to of ['a@example.test', 'b@example.test', 'c@example.test']) {
      await messenger.send(app, { channel: 'email', to, kind: 'sign_in_code', locals: { code: '111222' } });
      await messenger.drain();
    }
    expect(smtp.connections).toBe(1);
    await Promise.all(Array.from({ length: 6 }, (_, i) => messenger.send(app, { channel: 'email', to: `p${i}@example.test`, kind: 'sign_in_code', locals: { code: '333444' } })));
    await messenger.drain();
    await messenger.close();
    expect(smtp.received).toHaveLength(9);
    expect(smtp.connections).toBeLessThanOrEqual(2);
    expect((await outbox.list(app.id)).every((m) => m.status === 'sent')).toBe(true);
  });

  it('uses MAIL_FROM when the app names no sender', async () => {
    smtp = await startSmtp();
    const outbox = new MemoryOutboxRepository();
    const messenger = createMessenger({ ...config, SMTP_URL: smtp.url }, outbox, captureLog().log, { retryDelaysMs: FAST_RETRIES });
    const app = makeApp({ mode: 'deliver' });
    await messenger.send(app, { channel: 'email', to: 'bob@example.test', kind: 'magic_link', locals: { link: 'https://id.acme.test/l?t=abc' } });
    await messenger.close();
    expect(headerOf(smtp.received[0].raw, 'From')).toBe('Portcullis <no-reply@portcullis.test>');
    expect(smtp.received[0].from).toBe('no-reply@portcullis.test');
  });

  it('retries with backoff after rejections and records every attempt until sent', async () => {
    smtp = await startSmtp({ rejectFirstRcpts: 2 });
    const outbox = new MemoryOutboxRepository();
    const { log, entries } = captureLog();
    const messenger = new Messenger({ outbox, config, log, transports: { email: createSmtpTransport({ url: smtp.url }) }, retryDelaysMs: FAST_RETRIES });
    const app = makeApp({ mode: 'deliver' });

    await expect(messenger.send(app, { channel: 'email', to: 'ann@example.test', kind: 'verify_email', locals: { code: '314159' } })).resolves.toBeUndefined();
    await messenger.close();

    expect(smtp.rcptCalls).toBe(3);
    expect(smtp.received).toHaveLength(1);
    const [entry] = await outbox.list(app.id);
    expect(entry).toMatchObject({ status: 'sent', attempts: 3 });
    expect(entry.lastError).toMatch(/451|temporarily unavailable/i);
    expect(entries.filter((e) => e.level === 'warn')).toHaveLength(2);
  });

  it('gives up after the last attempt when nothing listens: failed, attempts counted, error logged, send never rejects', async () => {
    const port = await closedPort();
    const outbox = new MemoryOutboxRepository();
    const { log, entries } = captureLog();
    const messenger = new Messenger({
      outbox, config, log, transports: { email: createSmtpTransport({ url: `smtp://127.0.0.1:${port}` }) }, retryDelaysMs: FAST_RETRIES,
    });
    const app = makeApp({ mode: 'deliver' });

    await expect(messenger.send(app, { channel: 'email', to: 'ann@example.test', kind: 'password_reset', locals: { link: 'https://id.acme.test/r?t=1' } })).resolves.toBeUndefined();
    await messenger.send(app, { channel: 'email', to: 'bob@example.test', kind: 'password_reset', locals: { link: 'https://id.acme.test/r?t=2' } });
    await messenger.close();

    const list = await outbox.list(app.id);
    expect(list).toHaveLength(2);
    for (const entry of list) {
      expect(entry).toMatchObject({ status: 'failed', attempts: 3 });
      expect(entry.lastError).toMatch(/ECONNREFUSED|connect/i);
    }
    const errors = entries.filter((e) => e.level === 'error');
    expect(errors).toHaveLength(2);
    expect(errors[0].msg).toBe('message delivery failed');
    expect(JSON.stringify(entries)).not.toMatch(/ann@example|t=1/);
  });

  it('fails the entry at once when the channel has no transport, without throwing', async () => {
    const outbox = new MemoryOutboxRepository();
    const { log, entries } = captureLog();
    const messenger = new Messenger({ outbox, config, log, transports: {}, retryDelaysMs: FAST_RETRIES });
    const app = makeApp({ mode: 'deliver' });
    await messenger.send(app, { channel: 'sms', to: '+14155550100', kind: 'sign_in_code', locals: { code: '1' } });
    await messenger.drain();
    expect((await outbox.list(app.id))[0]).toMatchObject({ status: 'failed', attempts: 0, lastError: expect.stringContaining('SMS_HTTP_URL') });
    expect(entries.some((e) => e.level === 'error')).toBe(true);
  });

  it('still resolves (and still delivers) when the outbox cannot record the message', async () => {
    const outbox = new MemoryOutboxRepository();
    outbox.add = async () => { throw new Error('storage down'); };
    const transports = spyTransports();
    const { log, entries } = captureLog();
    const messenger = new Messenger({ outbox, config, log, transports, retryDelaysMs: FAST_RETRIES });
    await expect(messenger.send(makeApp({ mode: 'deliver' }), { channel: 'email', to: 'a@example.test', kind: 'sign_in_code', locals: { code: '9' } })).resolves.toBeUndefined();
    await messenger.drain();
    expect(transports.email.send).toHaveBeenCalledTimes(1);
    expect(entries.some((e) => e.level === 'error' && e.msg === 'could not record a message in the outbox')).toBe(true);
  });
});

// ── SMS over HTTP ─────────────────────────────────────────────────────────────────────────────────────────────────

describe('SMS over HTTP (a real local provider)', () => {
  it('POSTs the JSON body template with the Authorization header, escaping quotes, backslashes and newlines', async () => {
    const provider = await startSmsProvider();
    try {
      const transport = new HttpSmsTransport({
        url: provider.url,
        authorization: 'Bearer sms-secret',
        bodyTemplate: '{"to":"{{to}}","body":"{{text}}","sender":"{{from}}","channel":"sms"}',
        from: 'Acme "HQ"',
      });
      const text = 'Line "one"\nline \\two\t{{to}} </script>\u2028é';
      await transport.send({ to: '+14155550100', text });

      expect(provider.calls).toHaveLength(1);
      const [call] = provider.calls;
      expect(call.method).toBe('POST');
      expect(call.url).toBe('/v1/messages?key=ignored');
      expect(call.headers.authorization).toBe('Bearer sms-secret');
      expect(call.headers['content-type']).toBe('application/json');
      expect(JSON.parse(call.body)).toEqual({ to: '+14155550100', body: text, sender: 'Acme "HQ"', channel: 'sms' });
      expect(call.body).toContain('\\"one\\"\\nline \\\\two');
    } finally {
      await provider.close();
    }
  });

  it('sends no Authorization header when none is configured, and an empty from', async () => {
    const provider = await startSmsProvider(200);
    try {
      await new HttpSmsTransport({ url: provider.url, bodyTemplate: '{"to":"{{to}}","text":"{{text}}","from":"{{from}}"}' }).send({ to: '+1', text: 'hi' });
      expect(provider.calls[0].headers.authorization).toBeUndefined();
      expect(JSON.parse(provider.calls[0].body)).toEqual({ to: '+1', text: 'hi', from: '' });
    } finally {
      await provider.close();
    }
  });

  it('delivers sign_in_code through the messenger and marks it sent', async () => {
    const provider = await startSmsProvider();
    try {
      const outbox = new MemoryOutboxRepository();
      const messenger = createMessenger(
        { ...config, SMS_HTTP_URL: provider.url, SMS_HTTP_AUTH: 'Basic dXNlcjpwYXNz', SMS_FROM: 'ACME' },
        outbox, captureLog().log, { retryDelaysMs: FAST_RETRIES },
      );
      const app = makeApp({ mode: 'deliver' }, { name: 'Acme "Portal"' });
      await messenger.send(app, { channel: 'sms', to: '+14155550100', kind: 'sign_in_code', locals: { code: '482913' } });
      await messenger.close();

      const body = JSON.parse(provider.calls[0].body) as { to: string; body: string };
      expect(provider.calls[0].headers.authorization).toBe('Basic dXNlcjpwYXNz');
      expect(body.to).toBe('+14155550100');
      expect(body.body).toContain('482913');
      expect(body.body).toContain('Acme "Portal"');
      expect((await outbox.list(app.id))[0]).toMatchObject({ channel: 'sms', status: 'sent', attempts: 1 });
    } finally {
      await provider.close();
    }
  });

  it('treats a non-2xx answer as a failure: retried, then failed, never thrown to the caller', async () => {
    const provider = await startSmsProvider(500);
    try {
      const outbox = new MemoryOutboxRepository();
      const messenger = createMessenger({ ...config, SMS_HTTP_URL: provider.url }, outbox, captureLog().log, { retryDelaysMs: FAST_RETRIES });
      const app = makeApp({ mode: 'deliver' });
      await expect(messenger.send(app, { channel: 'sms', to: '+14155550100', kind: 'sign_in_code', locals: { code: '1' } })).resolves.toBeUndefined();
      await messenger.close();
      expect(provider.calls).toHaveLength(3);
      expect((await outbox.list(app.id))[0]).toMatchObject({ status: 'failed', attempts: 3, lastError: 'SMS provider answered HTTP 500' });
    } finally {
      await provider.close();
    }
  });

  it('fills placeholders in one pass and rejects a template that cannot give JSON', () => {
    expect(fillBodyTemplate('{"a":"{{text}}","b":"{{to}}"}', { to: 'T', text: '{{to}}"' })).toBe('{"a":"{{to}}\\"","b":"T"}');
    expect(() => new HttpSmsTransport({ url: 'http://127.0.0.1:1/', bodyTemplate: '{"to":{{to}}}' })).toThrow(/SMS_HTTP_BODY/);
    expect(() => createMessenger({ ...config, SMS_HTTP_URL: 'http://127.0.0.1:1/', SMS_HTTP_BODY: 'to={{to}}' }, new MemoryOutboxRepository(), captureLog().log))
      .toThrow(ConfigError);
  });
});

// ── Admin API route and dev mailbox page, on real Koa apps ────────────────────────────────────────────────────────

async function listen(koa: Koa): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function fillOutbox(outbox: MemoryOutboxRepository, app: AppRecord, messages: Array<Partial<OutboxMessage>>): Promise<void> {
  let t = Date.now() - 60_000;
  for (const [i, m] of messages.entries()) {
    t += 1000;
    await outbox.add({
      appId: app.id, id: `msg_${app.id}_${i}`, channel: 'email', to: 'ann@example.test', subject: `Subject ${i}`, text: `Text ${i}\n`,
      html: `<p>Html ${i}</p>`, status: 'simulated', attempts: 0, createdAt: new Date(t), expiresAt: new Date(t + 3_600_000), ...m,
    });
  }
}

describe('GET /apps/:slug/outbox (Admin API route)', () => {
  const outbox = new MemoryOutboxRepository();
  const app = makeApp();
  const other = makeApp();
  let server: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    const registry = new RouteRegistry('/admin/v1');
    const helpers: AdminHelpers = {
      app: async ({ slug }) => {
        const found = [app, other].find((a) => a.slug === slug);
        if (!found) throw new NotFoundError(`No app "${slug}".`);
        return found;
      },
      presentApp: (a) => ({ slug: a.slug }),
    };
    registerOutboxRoutes(registry, helpers, outbox);
    const koa = new Koa();
    koa.use(errorHandler(createLogger('silent')));
    koa.use(registry.router.routes());
    server = await listen(koa);
    await fillOutbox(outbox, app, [
      { channel: 'sms', to: '+14155550100', subject: undefined, html: undefined, text: 'Code 1' },
      { status: 'sent', attempts: 2, lastError: 'x' },
      { status: 'failed' },
    ]);
    await fillOutbox(outbox, other, [{ to: 'other@example.test' }]);
  });
  afterAll(() => server.close());

  it('lists the app\'s messages newest last in the documented shape', async () => {
    const res = await fetch(`${server.url}/admin/v1/apps/${app.slug}/outbox`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Array<Record<string, unknown>>;
    expect(body).toHaveLength(3);
    expect(body[0]).toEqual({
      id: `msg_${app.id}_0`, channel: 'sms', to: '+14155550100', text: 'Code 1', status: 'simulated', created_at: expect.any(String),
    });
    expect(body[1]).toEqual({
      id: `msg_${app.id}_1`, channel: 'email', to: 'ann@example.test', subject: 'Subject 1', text: 'Text 1\n', html: '<p>Html 1</p>',
      status: 'sent', created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(body.map((m) => m.status)).toEqual(['simulated', 'sent', 'failed']);
    expect(Date.parse(body[0].created_at as string)).toBeLessThan(Date.parse(body[2].created_at as string));
    expect(JSON.stringify(body)).not.toContain('other@example.test');
  });

  it('honours limit (keeping the newest) and validates the query', async () => {
    const res = await fetch(`${server.url}/admin/v1/apps/${app.slug}/outbox?limit=1`);
    expect(((await res.json()) as Array<{ status: string }>).map((m) => m.status)).toEqual(['failed']);
    expect((await fetch(`${server.url}/admin/v1/apps/${app.slug}/outbox?limit=0`)).status).toBe(400);
    expect((await fetch(`${server.url}/admin/v1/apps/${app.slug}/outbox?since=1`)).status).toBe(400);
  });

  it('answers 404 for an unknown app', async () => {
    const res = await fetch(`${server.url}/admin/v1/apps/nope/outbox`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });

  it('is documented in the OpenAPI document', () => {
    const registry = new RouteRegistry('/admin/v1');
    registerOutboxRoutes(registry, { app: async () => app, presentApp: () => ({}) }, outbox);
    const doc = registry.openApi({ title: 't', version: 'v1', serverUrl: 'http://x' }) as { paths: Record<string, Record<string, { tags: string[] }>> };
    expect(doc.paths['/apps/{slug}/outbox'].get.tags).toEqual(['messaging']);
  });
});

describe('GET /apps/:slug/dev/mailbox (dev mailbox page)', () => {
  const apps = new MemoryAppRepository();
  const outbox = new MemoryOutboxRepository();
  const app = makeApp({}, { name: 'Acme <script>x</script>' });
  let server: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    await apps.create(app);
    const koa = new Koa();
    koa.use(errorHandler(createLogger('silent')));
    koa.use(devMailboxRouter({ apps, outbox }).routes());
    server = await listen(koa);
    const messenger = new Messenger({ outbox, config, log: captureLog().log, transports: {} });
    await messenger.send(app, { channel: 'email', to: 'first@example.test', kind: 'sign_in_code', locals: { code: '111111' } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await messenger.send(app, { channel: 'email', to: 'second@example.test', kind: 'magic_link', locals: { link: 'https://id.acme.test/l?t=abc&x=1' } });
    await fillOutbox(outbox, app, [{ status: 'sent', to: 'real-person@example.test', text: 'Real code 999999' }]);
  });
  afterAll(() => server.close());

  it('lists simulated messages newest first, escaped, with a strict CSP', async () => {
    const res = await fetch(`${server.url}/apps/${app.slug}/dev/mailbox`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('Acme &lt;script&gt;x&lt;/script&gt;');
    expect(html).toContain('111111');
    expect(html.indexOf('second@example.test')).toBeLessThan(html.indexOf('first@example.test'));
    expect(html).toContain('href="https://id.acme.test/l?t=abc&amp;x=1"');
  });

  it('never shows messages that were really delivered', async () => {
    const html = await (await fetch(`${server.url}/apps/${app.slug}/dev/mailbox`)).text();
    expect(html).not.toContain('real-person@example.test');
    expect(html).not.toContain('999999');
  });

  it('answers 404 for an unknown app', async () => {
    const res = await fetch(`${server.url}/apps/nope/dev/mailbox`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
  });
});
