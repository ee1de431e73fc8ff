/**
 * The tenant whose brand a page wears (`ctx.state.brandTenant`, read by `src/http/render-page.ts`): the one way a
 * route sets it, inside a sign-in (the chosen organisation or `tenant=`, `attempt-web.ts`) and on the pages emailed
 * links open, which belong to no sign-in (an invitation's tenant, the tenant a reset or sign-in link was asked for).
 */
import type { Context } from 'koa';
import type { AppRecord, TenantRecord } from '../src/storage/ports.js';
import type { TenantService } from '../src/tenants/tenant-service.js';

/**
 * Looks the tenant up (id or slug) and makes its branding override the page's. Nothing named, or a tenant that no
 * longer exists (deleted since the link was sent): the app's own brand, never an error.
 */
export async function useBrandTenant(
  ctx: Pick<Context, 'state'>,
  tenants: Pick<TenantService, 'find'>,
  app: AppRecord,
  idOrSlug: string | null | undefined,
): Promise<TenantRecord | undefined> {
  if (!idOrSlug) return undefined;
  const tenant = await tenants.find(app, idOrSlug);
  if (tenant) ctx.state.brandTenant = tenant;
  return tenant;
}
