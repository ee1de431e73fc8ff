/**
 * The webhook event catalogue, and how each is derived from an audit event: every audit `record()` whose type is (or
 * maps to) a catalogue type becomes a webhook event, so every emitter already in place produces both.
 */
import type { AuditEvent } from '../storage/ports.js';

export const WEBHOOK_EVENT_TYPES = [
  'account.created', 'account.updated', 'account.deactivated', 'account.reactivated', 'account.deleted',
  'account.password_changed', 'account.password_reset', 'account.email_change_requested', 'account.phone_change_requested',
  'sign_in.succeeded', 'sign_in.failed', 'sign_in.locked', 'session.revoked', 'grant.revoked',
  'invitation.created', 'invitation.accepted',
  'tenant.created', 'tenant.updated', 'tenant.deleted',
  'membership.added', 'membership.updated', 'membership.removed',
  'client.created', 'client.deleted',
  'resource.created', 'resource.updated', 'resource.deleted',
  'mfa.enrolled', 'mfa.used', 'mfa.failed', 'mfa.locked', 'mfa.removed',
  'partner_link.used', 'partner_link.refused',
  'support_pin.created', 'support_pin.verified', 'support_pin.locked',
  'webhook.disabled',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number] | 'webhook.test';

/** Audit types recorded under another name by code that predates the catalogue. */
const AUDIT_ALIASES: Record<string, WebhookEventType> = {
  'account.registered': 'account.created',
  'password.reset': 'account.password_reset',
};

const CATALOGUE: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/** The webhook type of an audit event, or undefined when it is not a webhook event. */
export function webhookTypeOf(auditType: string): WebhookEventType | undefined {
  if (AUDIT_ALIASES[auditType]) return AUDIT_ALIASES[auditType];
  return CATALOGUE.has(auditType) ? (auditType as WebhookEventType) : undefined;
}

export function subscribes(events: string[], type: string): boolean {
  return events.includes('*') || events.includes(type);
}

/**
 * The JSON body Standard Webhooks defines: `{type, timestamp, data}`. `data` is the audit event as the audit API
 * presents it (ids, ip, actor, detail) plus the app: never a secret, code or password (the audit log holds none).
 */
export function webhookBody(type: WebhookEventType, app: { slug: string }, event: AuditEvent): string {
  return JSON.stringify({
    type,
    timestamp: event.createdAt.toISOString(),
    data: {
      event_id: event.id,
      app: app.slug,
      ...(event.accountId ? { account_id: event.accountId } : {}),
      ...(event.tenantId ? { tenant_id: event.tenantId } : {}),
      ...(event.ip ? { ip: event.ip } : {}),
      ...(event.actor ? { actor: event.actor } : {}),
      ...(event.detail ?? {}),
    },
  });
}
