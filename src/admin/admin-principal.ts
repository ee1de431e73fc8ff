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
