/**
 * The dev mailbox: an HTML page listing the messages an app simulated, so someone trying Portcullis with the
 * embedded store can read sign-in codes and click links without configuring SMTP.
 *
 * It has no authentication, which is why it must only be mounted with the embedded store (a development setup),
 * why it shows only `simulated` entries (a message that really went to someone is never shown here), and why by
 * default it answers only requests from this machine: the codes it shows sign people in, and
 * anyone on the network could otherwise read them. `DEV_MAILBOX=true` opens it to every caller on purpose (a
 * container reached from its host); the embedded store also listens on 127.0.0.1 unless HOST says otherwise.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppRepository, OutboxMessage, OutboxRepository } from '../storage/ports.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { renderPage } from '../http/render-page.js';

export interface DevMailboxDeps {
  apps: Pick<AppRepository, 'findBySlug'>;
  outbox: OutboxRepository;
  /** Show the page to callers on other machines too (`DEV_MAILBOX=true`). Default: loopback callers only. */
  anyone?: boolean;
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback (`::ffff:127.0.0.1`, what a dual-stack socket reports). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}

/**
 * From this machine: the TCP peer is loopback, and so is the client address the app derived (which is the first
 * X-Forwarded-For hop with TRUST_PROXY, so a local reverse proxy does not make every remote visitor "local").
 */
function fromThisMachine(ctx: Context): boolean {
  const derived = (ctx.state as { ip?: string }).ip;
  return isLoopback(ctx.req.socket.remoteAddress) && (derived === undefined || isLoopback(derived));
}

/** Links offered as buttons: absolute http(s) URLs only, so a message can never produce a `javascript:` link. */
const LINK = /\bhttps?:\/\/[^\s<>"']+/g;

interface MailboxEntry {
  to: string;
  channel: OutboxMessage['channel'];
  subject?: string;
  createdAt: string;
  lines: string[];
  links: string[];
}

function present(message: OutboxMessage): MailboxEntry {
  return {
    to: message.to,
    channel: message.channel,
    subject: message.subject,
    createdAt: message.createdAt.toISOString(),
    lines: message.text.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n'),
    links: [...new Set(message.text.match(LINK) ?? [])].filter((link) => URL.canParse(link)),
  };
}

/** `GET /apps/:slug/dev/mailbox`. Mount only when `stores.embedded`. */
export function devMailboxRouter(deps: DevMailboxDeps): Router {
  const router = new Router();
  router.get('/apps/:slug/dev/mailbox', async (ctx) => {
    if (!deps.anyone && !fromThisMachine(ctx)) {
      throw new ForbiddenError('The dev mailbox is shown only on the machine that runs Portcullis (set DEV_MAILBOX=true to show it to the network).');
    }
    const app = await deps.apps.findBySlug(ctx.params.slug);
    if (!app) throw new NotFoundError('There is no app at this address.');
    const messages = (await deps.outbox.list(app.id))
      .filter((m) => m.status === 'simulated')
      .reverse()
      .map(present);
    renderPage(ctx, 'mailbox', { title: 'dev:mailbox.title', app, basePath: `/apps/${encodeURIComponent(app.slug)}`, messages });
  });
  return router;
}
