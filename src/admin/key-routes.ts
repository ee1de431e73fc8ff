/**
 * Managed Admin API keys: `POST/GET /admin/v1/keys`, `DELETE /admin/v1/keys/{id}` (scope `admin`, every app).
 */
import { z } from 'zod';
import type { AdminKeyService } from './admin-keys.js';
import { KEY_SCOPES, presentKey } from './admin-keys.js';
import type { RouteRegistry } from './route-registry.js';
import { slugSchema } from './schemas.js';
import { cleanText } from '../accounts/contact-schemas.js';

export const createKeySchema = z.object({
  name: cleanText(200),
  scopes: z.array(z.enum(KEY_SCOPES)).min(1).max(KEY_SCOPES.length),
  apps: z.array(z.union([z.literal('*'), slugSchema])).min(1).max(500),
  expires_at: z.iso.datetime({ offset: true }).optional(),
}).strict().refine((k) => !k.apps.includes('*') || k.apps.length === 1, { message: '"*" stands alone', path: ['apps'] });

export function registerKeyRoutes(registry: RouteRegistry, keys: AdminKeyService): void {
  registry.add({ method: 'post', path: '/keys', tag: 'keys', body: createKeySchema, status: 201,
    summary: 'Create an API key with scopes and apps; the secret is shown only in this answer',
    handler: async ({ body }) => {
      const { key, secret } = await keys.create(body);
      return { ...presentKey(key), secret };
    } });
  registry.add({ method: 'get', path: '/keys', tag: 'keys', summary: 'List API keys (never their secrets)',
    handler: async () => (await keys.list()).map(presentKey) });
  registry.add({ method: 'delete', path: '/keys/:key', tag: 'keys', status: 204, summary: 'Revoke an API key at once',
    handler: async ({ params }) => keys.delete(params.key) });
}
