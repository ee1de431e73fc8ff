/**
 * `GET /apps/{slug}/branding/logo` and `/favicon` (`?tenant=` for a tenant's logo): the uploaded image of a brand,
 * from our own address. The answer is the image's bytes with the type its bytes showed (never the type the upload
 * claimed), `nosniff`, and a CSP that blocks every script, plugin and request, sandboxed: an SVG opened directly
 * runs nothing. An https image is never proxied: pages link to it, and its origin is in their `img-src`.
 */
import Router from '@koa/router';
import type { AppRepository, TenantRepository } from '../storage/ports.js';
import { NotFoundError } from '../errors.js';
import { brandImage } from './brand.js';
import { decodeImageDataUri, isDataUri } from './logo.js';

export const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

export function brandingRouter(deps: { apps: Pick<AppRepository, 'findBySlug'>; tenants: Pick<TenantRepository, 'findById'> }): Router {
  const router = new Router();
  router.get('/apps/:slug/branding/:kind', async (ctx) => {
    const kind = ctx.params.kind;
    if (kind !== 'logo' && kind !== 'favicon') throw new NotFoundError('There is nothing at this address.');
    const app = await deps.apps.findBySlug(ctx.params.slug);
    if (!app) throw new NotFoundError('There is nothing at this address.');
    const tenantId = typeof ctx.query.tenant === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(ctx.query.tenant) ? ctx.query.tenant : undefined;
    const tenant = tenantId ? await deps.tenants.findById(app.id, tenantId) : undefined;
    const value = brandImage(app, kind, tenant);
    if (!isDataUri(value)) throw new NotFoundError('This app has no uploaded image here.');
    const image = decodeImageDataUri(value);
    if ('problem' in image) throw new NotFoundError('This app has no uploaded image here.');
    ctx.set('Content-Security-Policy', IMAGE_CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Disposition', 'inline');
    // The page's address carries a version of the image (`v=`): a new upload is a new address.
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = image.type;
    ctx.body = image.bytes;
  });
  return router;
}
