/**
 * Sends the codes and links of sign-in, registration, invitations and password resets, per app.
 *
 * Every message goes through the app's outbox first, so an operator can always see what was sent (Admin API) and a
 * developer can read simulated messages (dev mailbox). In `simulate` mode that is all that happens, and the entry
 * keeps the codes and links (reading them is the point). In `deliver` mode the entry keeps the delivery record
 * (to, subject, status, attempts) with its codes and links redacted, since they went to the person and a stored
 * copy would turn a leaked admin key or backup into live sign-ins; it is queued and delivered in the background
 * with retries: callers never wait for SMTP, and a
 * delivery failure is logged and recorded on the entry but never thrown. Whether a message is sent usually depends
 * on whether an account exists, so a caller that could see failures (or their latency) would leak exactly that.
 */
import type { Config } from '../../config/index.js';
import type { Logger } from '../log.js';
import type { AppRecord, OutboxMessage, OutboxRepository, Patch } from '../storage/ports.js';
import { prefixedId } from '../crypto/random.js';
import type { EmailTransport } from './email-transport.js';
import type { SmsTransport } from './sms-transport.js';
import type { BrandedTenant } from '../branding/brand.js';
import { MessageRenderer, redactMessage, secretValues, type MessageChannel, type MessageKind, type RenderedMessage } from './messages.js';

export interface OutgoingMessage {
  channel: MessageChannel;
  /** Email address or E.164 phone number. */
  to: string;
  kind: MessageKind;
  /** Template values (see `messageCatalogue` for what each kind needs). */
  locals: Record<string, unknown>;
  /** Defaults to the app's locale; unknown locales fall back to `en`. */
  locale?: string;
  /**
   * The tenant the message is about, when known (an invitation into it, a reset or link asked for in a sign-in to
   * it): its branding override (display name, primary colour) replaces the app's, as on the pages.
   */
  brandTenant?: BrandedTenant;
}

export interface MessengerTransports {
  email?: EmailTransport;
  sms?: SmsTransport;
}

export type MessengerLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface MessengerOptions {
  outbox: OutboxRepository;
  /** `lifetimes` is what messages state about validity (defaults when absent). */
  config: Pick<Config, 'OUTBOX_TTL_SECONDS' | 'MAIL_FROM'> & Partial<Pick<Config, 'lifetimes'>>;
  log: MessengerLog;
  transports: MessengerTransports;
  /**
   * Waits before each retry, in milliseconds: n delays mean n + 1 attempts. The default, 1 s then 4 s (×4
   * exponential backoff), gives 3 attempts within about 5 s plus transport time. Tests pass tiny delays.
   */
  retryDelaysMs?: readonly number[];
  /** Injected in tests. */
  now?: () => number;
}

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 4_000];

/** Errors recorded on the entry and in logs are bounded: an SMTP server may answer at length. */
const MAX_ERROR_LENGTH = 300;

export class Messenger {
  private readonly renderer: MessageRenderer;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryDelaysMs: readonly number[];
  private readonly now: () => number;

  constructor(private readonly options: MessengerOptions) {
    this.renderer = new MessageRenderer(options.config.lifetimes);
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * Renders the message and records it in the app's outbox; in deliver mode, starts delivery in the background.
   * Resolves once the message is recorded. Throws only for programming errors (unknown kind, a kind that cannot
   * go by this channel, missing or non-http(s) locals), which do not depend on the recipient.
   */
  async send(app: AppRecord, message: OutgoingMessage): Promise<void> {
    const rendered = this.renderer.render(app, { ...message, locale: message.locale ?? app.settings.locale });
    const mode = app.settings.messaging?.mode ?? 'simulate';
    const createdAt = this.now();
    const stored = mode === 'deliver' ? redactMessage(rendered, secretValues(message.kind, message.locals)) : rendered;
    const entry: OutboxMessage = {
      appId: app.id,
      id: prefixedId('msg'),
      channel: message.channel,
      to: message.to,
      ...(stored.subject !== undefined ? { subject: stored.subject } : {}),
      text: stored.text,
      ...(stored.html !== undefined ? { html: stored.html } : {}),
      status: mode === 'deliver' ? 'queued' : 'simulated',
      attempts: 0,
      createdAt: new Date(createdAt),
      expiresAt: new Date(createdAt + this.options.config.OUTBOX_TTL_SECONDS * 1000),
    };
    const context = { app: app.slug, message: entry.id, kind: message.kind, channel: message.channel };
    const recorded = await this.options.outbox.add(entry).then(
      () => true,
      (err: unknown) => {
        // Same rule as delivery: the caller's answer must not change. Delivery still goes ahead without a record.
        this.options.log.error({ ...context, err }, 'could not record a message in the outbox');
        return false;
      },
    );
    if (mode !== 'deliver') {
      this.options.log.debug(context, 'message simulated (kept in the outbox, not sent)');
      return;
    }
    this.track(this.deliver(app, entry, rendered, recorded, context));
  }

  /** Resolves when every delivery started so far has finished (sent or failed): graceful shutdown and tests. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Waits for in-flight deliveries, then closes the transports. */
  async close(): Promise<void> {
    await this.drain();
    this.options.transports.email?.close();
  }

  private track(delivery: Promise<void>): void {
    const tracked: Promise<void> = delivery
      .catch((err: unknown) => this.options.log.error({ err }, 'message delivery crashed'))
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async deliver(
    app: AppRecord,
    entry: OutboxMessage,
    rendered: RenderedMessage,
    recorded: boolean,
    context: Record<string, string>,
  ): Promise<void> {
    const { log } = this.options;
    const update = async (patch: Patch<OutboxMessage>) => {
      if (!recorded) return;
      await this.options.outbox.update(entry.appId, entry.id, patch).catch((err: unknown) => {
        log.error({ ...context, err }, 'could not update a message in the outbox');
      });
    };
    const transmit = this.transmitter(app, entry, rendered);
    if (!transmit) {
      const lastError = `no ${entry.channel} transport is configured (set ${entry.channel === 'email' ? 'SMTP_URL' : 'SMS_HTTP_URL'})`;
      log.error({ ...context, error: lastError }, 'message not delivered');
      await update({ status: 'failed', lastError });
      return;
    }
    const attempts = this.retryDelaysMs.length + 1;
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (attempt > 1) await sleep(this.retryDelaysMs[attempt - 2]);
      try {
        await transmit();
        await update({ status: 'sent', attempts: attempt });
        log.info({ ...context, attempts: attempt }, 'message delivered');
        return;
      } catch (err) {
        lastError = describeError(err);
        const final = attempt === attempts;
        if (!final) log.warn({ ...context, attempt, error: lastError }, 'message delivery attempt failed; will retry');
        await update(final ? { status: 'failed', attempts: attempt, lastError } : { attempts: attempt, lastError });
      }
    }
    log.error({ ...context, attempts, error: lastError }, 'message delivery failed');
  }

  /** The call that hands the message to its transport, or undefined when that channel has none. */
  private transmitter(app: AppRecord, entry: OutboxMessage, rendered: RenderedMessage): (() => Promise<void>) | undefined {
    const { email, sms } = this.options.transports;
    if (entry.channel === 'sms') return sms && (() => sms.send({ to: entry.to, text: rendered.text }));
    const from = senderOf(app, this.options.config.MAIL_FROM);
    return email && (() => email.send({ from, to: entry.to, subject: rendered.subject ?? '', text: rendered.text, html: rendered.html }));
  }
}

/**
 * The From of an app's email: its `sender_name` / `sender_address` when set (a missing half comes from the app name
 * and MAIL_FROM's address), else MAIL_FROM as configured.
 */
export function senderOf(app: Pick<AppRecord, 'name' | 'settings'>, mailFrom: string): string {
  const { sender_name: name, sender_address: address } = app.settings.messaging ?? {};
  if (!name && !address) return mailFrom;
  const displayName = (name ?? app.name).replace(/[\r\n]+/g, ' ').replace(/["\\]/g, '\\$&');
  return `"${displayName}" <${address ?? addressOf(mailFrom)}>`;
}

/** The bare address of `Name <address>` (or the value itself when it is already bare). */
function addressOf(mailbox: string): string {
  return /<([^<>]+)>\s*$/.exec(mailbox)?.[1].trim() ?? mailbox.trim();
}

function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
