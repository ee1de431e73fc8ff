/**
 * Admin API routes of API resources (RFC 8707): `POST/GET /apps/{slug}/resources`,
 * `GET/PATCH/DELETE /apps/{slug}/resources/{resource}` (by id, or by the URL-encoded identifier). Each change is an
 * audit event (and so a webhook event) besides the generic `admin.change`.
 */
import type { Context } from 'koa';
import type { AuditLog } from '../audit/audit-log.js';
import type { AdminHelpers } from './router.js';
import type { RouteRegistry } from './route-registry.js';
import { principalOf } from './admin-principal.js';
import { createResourceSchema, updateResourceSchema } from '../resources/resource-schemas.js';
import { presentResource, type ResourceService } from '../resources/resource-service.js';

export function registerResourceRoutes(registry: RouteRegistry, helpers: AdminHelpers, deps: { resources: ResourceService; audit: AuditLog }): void {
  const { resources, audit } = deps;
  const actor = (ctx: Context) => principalOf(ctx)?.keyId;
  registry.add({ method: 'post', path: '/apps/:slug/resources', tag: 'resources', status: 201, body: createResourceSchema,
    summary: 'Register an API that consumes the app\'s access tokens (its identifier is the tokens\' aud)',
    handler: async ({ ctx, params, body }) => {
      const app = await helpers.app(params);
      const resource = await resources.create(app, body);
      await audit.record(app, 'resource.created', { actor: actor(ctx), detail: { resource_id: resource.id, identifier: resource.identifier } });
      return presentResource(resource);
    } });
  registry.add({ method: 'get', path: '/apps/:slug/resources', tag: 'resources', summary: 'List API resources',
    handler: async ({ params }) => (await resources.list(await helpers.app(params))).map(presentResource) });
  registry.add({ method: 'get', path: '/apps/:slug/resources/:resource', tag: 'resources', summary: 'Get an API resource (by id or identifier)',
    handler: async ({ params }) => presentResource(await resources.require(await helpers.app(params), params.resource)) });
  registry.add({ method: 'patch', path: '/apps/:slug/resources/:resource', tag: 'resources', body: updateResourceSchema,
    summary: 'Change an API resource; null removes allowed_clients or role_scopes',
    handler: async ({ ctx, params, body }) => {
      const app = await helpers.app(params);
      const resource = await resources.update(app, params.resource, body);
      await audit.record(app, 'resource.updated', {
        actor: actor(ctx), detail: { resource_id: resource.id, identifier: resource.identifier, fields: Object.keys(body).join(' ') },
      });
      return presentResource(resource);
    } });
  registry.add({ method: 'delete', path: '/apps/:slug/resources/:resource', tag: 'resources', status: 204,
    summary: 'Delete an API resource (no new tokens for it; issued ones run out)',
    handler: async ({ ctx, params }) => {
      const app = await helpers.app(params);
      const resource = await resources.delete(app, params.resource);
      await audit.record(app, 'resource.deleted', { actor: actor(ctx), detail: { resource_id: resource.id, identifier: resource.identifier } });
    } });
}
