/**
 * The dev mailbox: an HTML page listing the messages an app simulated, so someone trying Portcullis with the
 * embedded store can read sign-in codes and click links without configuring SMTP.
 *
 * It has no authentication, which is why it must only be mounted with the embedded store (a development setup),
 * and why it shows only `simulated` entries: a message that really went to someone is never shown here.
 */
import Router from '@koa/router';
import type { AppRepository, OutboxMessage, OutboxRepository } from '../storage/ports.js';
import { NotFoundError } from '../errors.js';
import { renderPage } from '../http/render-page.js';

export interface DevMailboxDeps {
  apps: Pick<AppRepository, 'findBySlug'>;
  outbox: OutboxRepository;
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
    const app = await deps.apps.findBySlug(ctx.params.slug);
    if (!app) throw new NotFoundError('There is no app at this address.');
    const messages = (await deps.outbox.list(app.id))
      .filter((m) => m.status === 'simulated')
      .reverse()
      .map(present);
    renderPage(ctx, 'mailbox', { title: 'Dev mailbox', app, basePath: `/apps/${encodeURIComponent(app.slug)}`, messages });
  });
  return router;
}
