/**
 * Webhooks over the Admin API: endpoints per app, secret rotation, the delivery log, manual retry and a test event.
 */
import { z } from 'zod';
import type { AdminHelpers } from '../admin/router.js';
import type { RouteRegistry } from '../admin/route-registry.js';
import { cleanText } from '../accounts/contact-schemas.js';
import { WEBHOOK_EVENT_TYPES } from './webhook-events.js';
import { presentDelivery, presentWebhook, type WebhookService } from './webhook-service.js';

const events = z.array(z.enum(['*', ...WEBHOOK_EVENT_TYPES])).min(1).max(WEBHOOK_EVENT_TYPES.length)
  .refine((list) => !list.includes('*') || list.length === 1, '"*" stands alone');
const url = z.string().min(1).max(2000);

export const createWebhookSchema = z.object({
  url, events, enabled: z.boolean().optional(), description: cleanText(500).optional(),
}).strict();
export const updateWebhookSchema = z.object({
  url: url.optional(), events: events.optional(), enabled: z.boolean().optional(), description: cleanText(500).optional(),
}).strict();
export const deliveriesQuery = z.object({
  after: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
}).strict();

export function registerWebhookRoutes(registry: RouteRegistry, helpers: AdminHelpers, webhooks: WebhookService): void {
  const base = '/apps/:slug/webhooks';
  registry.add({ method: 'post', path: base, tag: 'webhooks', body: createWebhookSchema, status: 201,
    summary: 'Add a webhook endpoint; its signing secret (whsec_…) is shown only in this answer',
    handler: async ({ params, body }) => {
      const { webhook, secret } = await webhooks.create(await helpers.app(params), body);
      return { ...presentWebhook(webhook), secret };
    } });
  registry.add({ method: 'get', path: base, tag: 'webhooks', summary: 'List webhook endpoints',
    handler: async ({ params }) => (await webhooks.list(await helpers.app(params))).map(presentWebhook) });
  registry.add({ method: 'get', path: `${base}/:webhook`, tag: 'webhooks', summary: 'Get a webhook endpoint',
    handler: async ({ params }) => presentWebhook(await webhooks.require(await helpers.app(params), params.webhook)) });
  registry.add({ method: 'patch', path: `${base}/:webhook`, tag: 'webhooks', body: updateWebhookSchema,
    summary: 'Change a webhook endpoint (enabled: true re-enables one the server disabled)',
    handler: async ({ params, body }) => presentWebhook(await webhooks.update(await helpers.app(params), params.webhook, body)) });
  registry.add({ method: 'delete', path: `${base}/:webhook`, tag: 'webhooks', status: 204, summary: 'Delete a webhook endpoint and its deliveries',
    handler: async ({ params }) => webhooks.delete(await helpers.app(params), params.webhook) });
  registry.add({ method: 'post', path: `${base}/:webhook/secret`, tag: 'webhooks',
    summary: 'Rotate the signing secret; the previous one keeps signing for 24 h (both signatures are sent)',
    handler: async ({ params }) => {
      const { webhook, secret } = await webhooks.rotateSecret(await helpers.app(params), params.webhook);
      return { ...presentWebhook(webhook), secret };
    } });
  registry.add({ method: 'get', path: `${base}/:webhook/deliveries`, tag: 'webhooks', query: deliveriesQuery,
    summary: 'Deliveries of the endpoint, newest first (page with after/limit)',
    handler: async ({ params, query }) => {
      const page = await webhooks.deliveries(await helpers.app(params), params.webhook, query);
      return { items: page.items.map(presentDelivery), next: page.next };
    } });
  registry.add({ method: 'post', path: `${base}/:webhook/deliveries/:delivery/retry`, tag: 'webhooks', status: 202,
    summary: 'Send a delivery again now',
    handler: async ({ params }) => presentDelivery(await webhooks.retry(await helpers.app(params), params.webhook, params.delivery)) });
  registry.add({ method: 'post', path: `${base}/:webhook/test`, tag: 'webhooks', status: 202,
    summary: 'Send a signed webhook.test event to the endpoint',
    handler: async ({ params }) => presentDelivery(await webhooks.sendTest(await helpers.app(params), params.webhook)) });
}
