/**
 * Admin API view of an app's outbox: what was simulated or delivered, so operators can check messages in deliver
 * mode and integrators can read codes and links in simulate mode without an inbox.
 */
import { z } from 'zod';
import type { AdminHelpers } from '../admin/router.js';
import type { RouteRegistry } from '../admin/route-registry.js';
import type { OutboxMessage, OutboxRepository } from '../storage/ports.js';

export const outboxQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
}).strict();

/** The Admin API shape of an outbox entry (snake_case like every Admin API answer). */
export function presentOutboxMessage(message: OutboxMessage): Record<string, unknown> {
  return {
    id: message.id,
    channel: message.channel,
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html !== undefined ? { html: message.html } : {}),
    status: message.status,
    created_at: message.createdAt.toISOString(),
  };
}

export function registerOutboxRoutes(registry: RouteRegistry, helpers: AdminHelpers, outbox: OutboxRepository): void {
  registry.add({
    method: 'get',
    path: '/apps/:slug/outbox',
    tag: 'messaging',
    summary: 'Messages in the app\'s outbox (simulated, queued, sent or failed), newest last',
    query: outboxQuery,
    handler: async ({ params, query }) => {
      const app = await helpers.app(params);
      return (await outbox.list(app.id, query.limit)).map(presentOutboxMessage);
    },
  });
}
