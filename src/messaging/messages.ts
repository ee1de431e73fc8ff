/**
 * The catalogue of messages Portcullis sends, and how each one is rendered.
 *
 * Every kind is declared once here (channels, required locals, validity) so a caller cannot send a message whose
 * template would silently render `undefined`, and so the wording of validity periods matches the TTLs the callers
 * enforce. Templates live in `views/messages/en/{kind}.{subject,text,html,sms}.ejs` and take their wording from the
 * `messages` catalogue (`src/i18n/locales/{language}/messages.json`) in the recipient's language, so a language is
 * added by dropping a catalogue file. A locale may still bring its own templates (`views/messages/{locale}/…`, then
 * its language's); anything else uses the `en` folder's, which are language-neutral.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, renderTemplate } from '../http/views.js';
import { DEFAULT_LIFETIMES, type Lifetimes } from '../../config/index.js';
import type { TFunction } from 'i18next';
import { catalogue } from '../i18n/catalogue.js';
import { chooseLanguage } from '../i18n/choose-language.js';
import type { Branding } from '../branding/branding-schema.js';
import { brandNameAndColour, type BrandedTenant } from '../branding/brand.js';

export type MessageChannel = 'email' | 'sms';

export const messageKinds = [
  'sign_in_code',
  'magic_link',
  'verify_email',
  'already_registered',
  'invitation',
  'password_reset',
  'password_changed',
  'recovery_code_used',
  'webhook_disabled',
  'email_changed',
] as const;

export type MessageKind = (typeof messageKinds)[number];

export interface MessageSpec {
  /** Channels this kind may be sent on; each needs its templates (`sms` needs `{kind}.sms.ejs`). */
  channels: readonly MessageChannel[];
  /** Locals the caller must pass (non-empty strings). */
  requires: readonly string[];
  /** Locals that must be absolute http(s) URLs when present: never a `javascript:` link in an email. */
  links: readonly string[];
  /** Locals the templates test for; defined (possibly `undefined`) before rendering so a template never throws. */
  optional?: readonly string[];
  /** Which lifetime (config `Lifetimes`) the message states: the same number the sign-in method enforces. */
  validity?: keyof Lifetimes;
}

/**
 * What each kind needs. Locals are camelCase; every template also gets `appName`, `validMinutes` and `validFor`
 * (the validity in the message's language, e.g. "10 minutes"), both from the configured lifetime the kind names,
 * and `t`, `th`, `lang` as pages do.
 */
export const messageCatalogue: Readonly<Record<MessageKind, MessageSpec>> = {
  /** One-time 6-digit sign-in code (email or SMS). */
  sign_in_code: { channels: ['email', 'sms'], requires: ['code'], links: [], validity: 'signInCode' },
  /** Single-use sign-in link. */
  magic_link: { channels: ['email'], requires: ['link'], links: ['link'], validity: 'magicLink' },
  /** Code that proves ownership of the email during registration. */
  verify_email: { channels: ['email'], requires: ['code'], links: [], validity: 'registrationCode' },
  /**
   * Sent instead of `verify_email` when the address already has an account, so the registration form answers the
   * same way for known and unknown addresses (no enumeration). Optional `link`: where to sign in or reset.
   */
  already_registered: { channels: ['email'], requires: [], links: ['link'], optional: ['link'] },
  /** Invitation to the app (optional `tenantName`: the organisation the person joins). */
  /** To the app's admin contact: a webhook endpoint failed for too long and was disabled. */
  webhook_disabled: { channels: ['email'], requires: ['url', 'failingSince'], links: [] },
  invitation: { channels: ['email'], requires: ['link'], links: ['link'], optional: ['tenantName'], validity: 'invitation' },
  /** Password reset link. */
  password_reset: { channels: ['email'], requires: ['link'], links: ['link'], validity: 'passwordReset' },
  /** Notification after a password change (optional `link`: where to reset it if it was not them). */
  password_changed: { channels: ['email'], requires: [], links: ['link'], optional: ['link'] },
  /** To the previous address after the account's email was changed in the account center (`newEmail`). */
  email_changed: { channels: ['email'], requires: ['newEmail'], links: [] },
  /** A recovery code was used to sign in (`remaining`: how many are left, as text). */
  recovery_code_used: { channels: ['email'], requires: [], links: [], optional: ['remaining'] },
};

export interface RenderedMessage {
  /** Email only. */
  subject?: string;
  text: string;
  /** Email only. */
  html?: string;
}

const DEFAULT_LOCALE = 'en';
/** The locale becomes part of a file path, so only well-formed tags are ever used. */
const LOCALE_PATTERN = /^[a-z]{2}(-[A-Z]{2})?$/;

/** Wording of a validity period ("10 minutes", "7 days") in the language of `t` (English by default). */
export function describeValidity(minutes: number, t: TFunction = catalogue().translator('en')): string {
  if (minutes % (24 * 60) === 0) return t('messages:validity.day', { count: minutes / (24 * 60) });
  if (minutes % 60 === 0) return t('messages:validity.hour', { count: minutes / 60 });
  return t('messages:validity.minute', { count: minutes });
}

/** The language a message is written in: the requested locale when a catalogue has it (`fr-CA` → `fr`), else English. */
export function messageLanguage(locale: string | undefined): string {
  const { languages } = catalogue();
  return chooseLanguage(languages, { appDefault: locale && LOCALE_PATTERN.test(locale) ? locale : undefined });
}

/** Throws when the message cannot be rendered as asked: a programming error, the same for every recipient. */
export function checkMessage(kind: MessageKind, channel: MessageChannel, locals: Record<string, unknown>): void {
  const spec = messageCatalogue[kind];
  if (!spec) throw new TypeError(`Unknown message kind "${String(kind)}".`);
  if (!spec.channels.includes(channel)) throw new TypeError(`Message "${kind}" cannot be sent by ${channel}.`);
  for (const name of spec.requires) {
    if (typeof locals[name] !== 'string' || locals[name] === '') throw new TypeError(`Message "${kind}" needs the local "${name}".`);
  }
  for (const name of spec.links) {
    const value = locals[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !/^https?:\/\//i.test(value) || !URL.canParse(value)) {
      throw new TypeError(`Message "${kind}": "${name}" must be an absolute http(s) URL.`);
    }
  }
}

/**
 * Renders messages from the templates. Holds the cache of which locale each kind resolves to, per instance, so
 * nothing is shared between tests or processes' composition roots.
 */
export class MessageRenderer {
  private readonly resolved = new Map<string, string>();
  private readonly viewsDir = path.join(projectRoot, 'views');

  /** @param lifetimes what the messages say about validity (the configured ones, so the text matches the TTLs). */
  constructor(private readonly lifetimes: Lifetimes = DEFAULT_LIFETIMES) {}

  render(
    app: { name: string; settings?: { branding?: Branding } },
    message: { kind: MessageKind; channel: MessageChannel; to?: string; locals: Record<string, unknown>; locale?: string; brandTenant?: Pick<BrandedTenant, 'branding'> },
  ): RenderedMessage {
    const { kind, channel } = message;
    checkMessage(kind, channel, message.locals);
    const spec = messageCatalogue[kind];
    const validMinutes = spec.validity ? Math.max(1, Math.round(this.lifetimes[spec.validity] / 60)) : undefined;
    const lang = messageLanguage(message.locale);
    const t = catalogue().translator(lang);
    const brand = brandNameAndColour(app, message.brandTenant);
    const locals = {
      ...Object.fromEntries((spec.optional ?? []).map((name) => [name, undefined])),
      ...message.locals,
      to: message.to,
      // The brand's name and colour (src/branding/), with the tenant's override when the message is about a known
      // tenant: emails look like the pages the person signs in on.
      appName: brand.name,
      brandColour: brand.primaryColor,
      support: app.settings?.branding?.support_url ?? (app.settings?.branding?.support_email ? `mailto:${app.settings.branding.support_email}` : undefined),
      validMinutes,
      validFor: validMinutes === undefined ? undefined : describeValidity(validMinutes, t),
      lang,
      t,
      th: catalogue().htmlTranslator(lang),
    };
    const locale = this.localeFor(kind, channel, message.locale);
    const render = (variant: string) => renderTemplate(`messages/${locale}/${kind}.${variant}`, locals);
    if (channel === 'sms') return { text: singleLine(render('sms')) };
    return { subject: singleLine(render('subject')), text: tidyText(render('text')), html: render('html') };
  }

  /** The most specific locale that has the templates: `en-GB` → `en-GB`, else `en`, else the default. */
  private localeFor(kind: MessageKind, channel: MessageChannel, requested: string | undefined): string {
    const wellFormed = requested !== undefined && LOCALE_PATTERN.test(requested);
    const key = `${wellFormed ? requested : DEFAULT_LOCALE}|${kind}|${channel}`;
    let locale = this.resolved.get(key);
    if (!locale) {
      const candidates = wellFormed ? [requested, requested.slice(0, 2)] : [];
      const variant = channel === 'sms' ? 'sms' : 'text';
      locale = candidates.find((c) => existsSync(path.join(this.viewsDir, 'messages', c, `${kind}.${variant}.ejs`))) ?? DEFAULT_LOCALE;
      this.resolved.set(key, locale);
    }
    return locale;
  }
}

/** What replaces a code or link in a stored copy of a delivered message. */
export const REDACTED = '[redacted]';

/**
 * The secret values of a message: its one-time code and every link (sign-in, invitation and reset links carry a
 * single-use token). These are what a stored copy must not keep once the message is really delivered.
 */
export function secretValues(kind: MessageKind, locals: Record<string, unknown>): string[] {
  const spec = messageCatalogue[kind];
  const names = new Set([...spec.requires.filter((name) => name === 'code'), ...spec.links]);
  return [...names].map((name) => locals[name]).filter((v): v is string => typeof v === 'string' && v !== '');
}

/** How ejs's `<%= %>` writes a value into HTML, so the escaped form of a secret is found too. */
function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

/**
 * A copy of the rendered message without its secrets (raw, HTML-escaped and URL-encoded forms), for the outbox of
 * deliver mode: the delivery record stays useful (to, subject, status, wording) but a leaked admin key or backup
 * never yields a live code or link (OWASP ASVS V2.7: out-of-band secrets are not retained).
 */
export function redactMessage(rendered: RenderedMessage, secrets: readonly string[]): RenderedMessage {
  const forms = [...new Set(secrets.flatMap((s) => [s, escapeHtml(s), encodeURIComponent(s)]))]
    .filter((s) => s.length > 0)
    .sort((a, b) => b.length - a.length); // longest first, so a link is removed whole before any shorter overlap
  const scrub = (value: string) => forms.reduce((out, secret) => out.split(secret).join(REDACTED), value);
  return {
    ...(rendered.subject !== undefined ? { subject: scrub(rendered.subject) } : {}),
    text: scrub(rendered.text),
    ...(rendered.html !== undefined ? { html: scrub(rendered.html) } : {}),
  };
}

/**
 * Subjects and SMS are one line: line breaks (from the template or a value such as the app name) and runs of
 * whitespace become one space, so a value can neither inject a header nor cut the message short.
 */
function singleLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** Templates leave blank lines around `<% %>` tags: trim them and collapse runs of blank lines. */
function tidyText(value: string): string {
  return `${value.replace(/\r\n?/g, '\n').replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}
