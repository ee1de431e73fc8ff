/**
 * Who is calling the Admin API: the bootstrap key (ADMIN_API_KEY, every right) or a managed key with scopes and apps.
 * Set on `ctx.state.principal` by the authentication step; read by authorization and by the change audit.
 */
import type { Context } from 'koa';

export interface AdminPrincipal {
  /** `bootstrap` for ADMIN_API_KEY, otherwise the managed key's id (`key_…`). */
  keyId: string;
  name: string;
  scopes: string[];
  /** App slugs the key may use; `*` is every app. */
  apps: string[];
}

export const BOOTSTRAP_PRINCIPAL: AdminPrincipal = { keyId: 'bootstrap', name: 'ADMIN_API_KEY', scopes: ['admin'], apps: ['*'] };

export function principalOf(ctx: Context): AdminPrincipal | undefined {
  return ctx.state.principal as AdminPrincipal | undefined;
}

/** The scope a route needs: `admin` for key management, otherwise `{resource}:read` for GET and `:write` for changes. */
export function requiredScope(tag: string, method: string): string {
  if (tag === 'keys') return 'admin';
  return `${tag}:${method === 'get' ? 'read' : 'write'}`;
}

export function mayUseApp(principal: AdminPrincipal, slug: string): boolean {
  return principal.apps.includes('*') || principal.apps.includes(slug);
}

/**
 * Why the principal may not call this route, or undefined when it may. Routes outside any app (creating apps, the
 * global audit log, keys) need a key for every app (`apps: ["*"]`); listing apps is filtered instead.
 */
export function refusal(principal: AdminPrincipal, route: { tag: string; method: string; path: string; slug?: string }): string | undefined {
  const scope = requiredScope(route.tag, route.method);
  if (!principal.scopes.includes('admin') && !principal.scopes.includes(scope)) return `This API key lacks the scope ${scope}.`;
  if (route.slug !== undefined) return mayUseApp(principal, route.slug) ? undefined : 'This API key may not use this app.';
  const listsApps = route.method === 'get' && route.path === '/apps';
  if (!listsApps && !principal.apps.includes('*')) return 'This API key is limited to some apps; this route concerns every app.';
  return undefined;
}
