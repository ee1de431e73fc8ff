/**
 * Messaging: the catalogue of messages, the messenger that simulates or delivers them, and their transports.
 * `createMessenger` is what the composition root calls. The outbox's web views (Admin API routes, dev mailbox
 * page) are imported from their own modules by the composition root, so the messaging core depends on no route.
 */
import { ConfigError, type Config } from '../../config/index.js';
import type { OutboxRepository } from '../storage/ports.js';
import { createSmtpTransport } from './email-transport.js';
import { HttpSmsTransport } from './sms-transport.js';
import { Messenger, type MessengerLog, type MessengerOptions } from './messenger.js';

export { Messenger, senderOf, DEFAULT_RETRY_DELAYS_MS } from './messenger.js';
export type { MessengerLog, MessengerOptions, MessengerTransports, OutgoingMessage } from './messenger.js';
export { messageCatalogue, messageKinds, MessageRenderer, checkMessage, describeValidity } from './messages.js';
export type { MessageChannel, MessageKind, MessageSpec, RenderedMessage } from './messages.js';
export { createSmtpTransport } from './email-transport.js';
export type { EmailMessage, EmailTransport, SmtpOptions } from './email-transport.js';
export { HttpSmsTransport, fillBodyTemplate } from './sms-transport.js';
export type { HttpSmsOptions, SmsMessage, SmsTransport } from './sms-transport.js';

/**
 * The messenger with the transports the configuration names: SMTP when `SMTP_URL` is set, HTTP SMS when
 * `SMS_HTTP_URL` is set. Throws at start-up when `SMS_HTTP_BODY` is not a usable JSON template.
 */
export function createMessenger(
  config: Pick<Config, 'OUTBOX_TTL_SECONDS' | 'MAIL_FROM' | 'SMTP_URL' | 'SMTP_MAX_CONNECTIONS' | 'SMS_HTTP_URL' | 'SMS_HTTP_AUTH' | 'SMS_HTTP_BODY' | 'SMS_FROM'> & Partial<Pick<Config, 'lifetimes'>>,
  outbox: OutboxRepository,
  log: MessengerLog,
  options: Pick<MessengerOptions, 'retryDelaysMs' | 'now'> = {},
): Messenger {
  let sms: HttpSmsTransport | undefined;
  if (config.SMS_HTTP_URL) {
    try {
      sms = new HttpSmsTransport({ url: config.SMS_HTTP_URL, authorization: config.SMS_HTTP_AUTH, bodyTemplate: config.SMS_HTTP_BODY, from: config.SMS_FROM });
    } catch {
      throw new ConfigError('SMS_HTTP_BODY', 'must be a JSON template whose {{to}}, {{text}} and {{from}} placeholders sit inside JSON strings');
    }
  }
  const email = config.SMTP_URL ? createSmtpTransport({ url: config.SMTP_URL, maxConnections: config.SMTP_MAX_CONNECTIONS }) : undefined;
  return new Messenger({ outbox, config, log, transports: { email, sms }, ...options });
}
