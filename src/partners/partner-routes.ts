/** Admin API routes of partners (registered through `adminRouter`'s `extend` hook). */
import type { AdminHelpers } from '../admin/router.js';
import type { RouteRegistry } from '../admin/route-registry.js';
import { createPartnerSchema, updatePartnerSchema } from './partner-schemas.js';
import { presentPartner, type PartnerService } from './partner-service.js';

export function registerPartnerRoutes(registry: RouteRegistry, helpers: AdminHelpers, partners: PartnerService): void {
  const issuerOf = (app: Parameters<AdminHelpers['presentApp']>[0]) => String(helpers.presentApp(app).issuer);
  registry.add({ method: 'post', path: '/apps/:slug/partners', tag: 'partners', status: 201, body: createPartnerSchema,
    summary: 'Trust a partner system whose signed tokens sign people in (sign-in links, the jwt-bearer grant); the secret is write-only',
    handler: async ({ params, body }) => {
      const app = await helpers.app(params);
      return presentPartner(await partners.create(app, body), issuerOf(app));
    } });
  registry.add({ method: 'get', path: '/apps/:slug/partners', tag: 'partners', summary: 'List partners',
    handler: async ({ params }) => {
      const app = await helpers.app(params);
      return (await partners.list(app)).map((p) => presentPartner(p, issuerOf(app)));
    } });
  registry.add({ method: 'get', path: '/apps/:slug/partners/:partner', tag: 'partners', summary: 'Get a partner',
    handler: async ({ params }) => {
      const app = await helpers.app(params);
      return presentPartner(await partners.require(app, params.partner), issuerOf(app));
    } });
  registry.add({ method: 'patch', path: '/apps/:slug/partners/:partner', tag: 'partners', body: updatePartnerSchema,
    summary: 'Change a partner; a new secret, jwks or jwks_uri replaces its keys',
    handler: async ({ params, body }) => {
      const app = await helpers.app(params);
      return presentPartner(await partners.update(app, params.partner, body), issuerOf(app));
    } });
  registry.add({ method: 'delete', path: '/apps/:slug/partners/:partner', tag: 'partners', status: 204,
    summary: 'Delete a partner (its links and tokens stop working)',
    handler: async ({ params }) => partners.delete(await helpers.app(params), params.partner) });
}
