/**
 * Email over SMTP (nodemailer). Kept behind a two-method interface so the messenger can be tested with a real SMTP
 * server, and so another provider (an HTTP API) can replace it without touching the messenger.
 */
import nodemailer from 'nodemailer';

export interface EmailMessage {
  /** RFC 5322 address, e.g. `"Acme" <no-reply@acme.test>`. */
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface EmailTransport {
  /** Resolves once the SMTP server accepted the message; rejects otherwise (the messenger retries). */
  send(message: EmailMessage): Promise<void>;
  /** Closes pooled connections (graceful shutdown). */
  close(): void;
}

export interface SmtpOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://host:465` (implicit TLS). */
  url: string;
  /** Connections kept open and reused (`SMTP_MAX_CONNECTIONS`, default 5). */
  maxConnections?: number;
  /** Bounds on each phase: nodemailer's defaults (up to 10 minutes) would keep retries and shutdown waiting. */
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
}

/**
 * SMTP transport from `SMTP_URL`. Messages carry only text and HTML we rendered, so file and URL access for
 * attachments is disabled outright: content can never make the server read a file or fetch a URL.
 */
export function createSmtpTransport(options: SmtpOptions): EmailTransport {
  const transporter = nodemailer.createTransport({
    url: options.url,
    // Keeps up to `maxConnections` connections open and reuses each for 100 messages: without it every message pays
    // a TCP (and TLS) handshake, the greeting, EHLO, AUTH and QUIT, most of a sign-in code's cost on the server.
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 30_000,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(message) {
      await transporter.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        ...(message.html !== undefined ? { html: message.html } : {}),
      });
    },
    close() {
      transporter.close();
    },
  };
}
