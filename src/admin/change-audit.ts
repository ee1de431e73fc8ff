/**
 * Records every successful change made through the Admin API (POST, PUT, PATCH, DELETE) as an `admin.change` audit
 * event carrying the key that made it (OWASP ASVS V7.2: log every administrative action with who did it).
 */
import type { Context, Next } from 'koa';
import type { AuditLog, AuditScope } from '../audit/audit-log.js';
import { ADMIN_AUDIT_SCOPE } from '../audit/audit-log.js';
import type { AppRecord } from '../storage/ports.js';
import { principalOf } from './admin-principal.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function recordAdminChanges(audit: AuditLog, findApp: (slug: string) => Promise<AppRecord | undefined>) {
  return async (ctx: Context, next: Next) => {
    await next();
    if (READS.has(ctx.method) || ctx.status >= 300) return;
    const principal = principalOf(ctx);
    const params = (ctx.params ?? {}) as Record<string, string>;
    // A created app is named by the answer; a deleted app's log is gone with it, so that change is kept globally.
    const slug = params.slug ?? (ctx._matchedRoute === '/admin/v1/apps' ? (ctx.body as { slug?: string } | undefined)?.slug : undefined);
    const app = slug ? await findApp(slug).catch(() => undefined) : undefined;
    const scope: AuditScope = app ?? ADMIN_AUDIT_SCOPE;
    const route = String(ctx._matchedRoute ?? '');
    await audit.record(scope, 'admin.change', {
      actor: principal?.keyId,
      accountId: params.accountId ?? (route.includes('/accounts/:id') ? params.id : route.endsWith('/accounts') ? (ctx.body as { id?: string } | undefined)?.id : undefined),
      ip: ctx.state.ip as string | undefined,
      detail: {
        method: ctx.method, route, path: ctx.path, status: ctx.status,
        key_name: principal?.name, ...(scope === ADMIN_AUDIT_SCOPE && slug ? { app: slug } : {}),
      },
    });
  };
}
