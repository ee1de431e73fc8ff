/**
 * The audit log over the Admin API: filtered, cursor-paged, newest first, and exported as NDJSON.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { AuditFilter, AuditLog } from '../audit/audit-log.js';
import { ADMIN_AUDIT_SCOPE, presentAuditEvent } from '../audit/audit-log.js';
import type { AppRecord } from '../storage/ports.js';
import type { RouteRegistry } from './route-registry.js';

const filterFields = {
  type: z.string().min(1).max(100).optional(),
  account_id: z.string().min(1).max(100).optional(),
  tenant_id: z.string().min(1).max(100).optional(),
  ip: z.string().min(1).max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  after: z.string().min(1).max(200).optional(),
};
export const auditQuerySchema = z.object({ ...filterFields, limit: z.coerce.number().int().min(1).max(200).optional() }).strict();
export const auditExportSchema = z.object(filterFields).strict();

type AuditQueryInput = z.output<typeof auditExportSchema> & { limit?: number };

function filterOf(q: AuditQueryInput): AuditFilter {
  return {
    typePrefix: q.type, accountId: q.account_id, tenantId: q.tenant_id, ip: q.ip,
    since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined,
    after: q.after, limit: q.limit,
  };
}

/** NDJSON (one JSON object per line), read page by page so an export of any size stays in constant memory. */
async function ndjson(audit: AuditLog, scope: Parameters<AuditLog['all']>[0], filter: AuditFilter): Promise<Readable> {
  const events = audit.all(scope, filter);
  // Read the first event before answering: a store failure is still a clean 503 instead of a cut-off body.
  const first = await events.next();
  async function* lines() {
    if (first.done) return;
    yield `${JSON.stringify(presentAuditEvent(first.value))}\n`;
    for await (const event of events) yield `${JSON.stringify(presentAuditEvent(event))}\n`;
  }
  return Readable.from(lines());
}

/** The router's app lookup (404 for an unknown slug); declared here so this module does not import the router. */
interface AppLookup {
  app(params: Record<string, string>): Promise<AppRecord>;
}

export function registerAuditRoutes(registry: RouteRegistry, helpers: AppLookup, audit: AuditLog): void {
  registry.add({ method: 'get', path: '/apps/:slug/audit', tag: 'audit', query: auditQuerySchema,
    summary: 'Security events, newest first: filter by type prefix, account_id, tenant_id, ip, since, until; page with after/limit (≤ 200)',
    handler: async ({ params, query }) => {
      const page = await audit.page(await helpers.app(params), filterOf(query));
      return { items: page.items.map(presentAuditEvent), next: page.next };
    } });
  registry.add({ method: 'get', path: '/apps/:slug/audit/export', tag: 'audit', query: auditExportSchema,
    summary: 'Every matching event as NDJSON (application/x-ndjson), newest first',
    handler: async ({ ctx, params, query }) => {
      const stream = await ndjson(audit, await helpers.app(params), filterOf(query));
      ctx.type = 'application/x-ndjson';
      return stream;
    } });
  registry.add({ method: 'get', path: '/audit', tag: 'audit', query: auditQuerySchema,
    summary: 'Admin API changes that concern no single app (keys, apps created or deleted), newest first',
    handler: async ({ query }) => {
      const page = await audit.page(ADMIN_AUDIT_SCOPE, filterOf(query));
      return { items: page.items.map(presentAuditEvent), next: page.next };
    } });
}
