/**
 * Console forms → the Admin API's own schemas (`src/admin/schemas.ts`): a form's flat strings are shaped into the
 * API's body (lists from one-per-line text areas, booleans from check boxes, settings from a JSON text area) and
 * then validated by the same schema the API uses, so a value refused by one is refused by the other.
 */
import { z } from 'zod';
import { validate } from '../http/body.js';
import { InvalidRequestError } from '../errors.js';
import {
  createAccountSchema, createAppSchema, createClientSchema, createInvitationSchema, createTenantSchema, updateAccountSchema, updateAppSchema,
  updateClientSchema,
} from '../admin/schemas.js';
import { emailSchema } from '../accounts/contact-schemas.js';
import { CONSOLE_ROLES } from './console-roles.js';
import { createWebhookSchema } from '../webhooks/webhook-routes.js';

type Raw = Record<string, string>;

/** Non-empty lines of a text area. */
function lines(value: string | undefined): string[] {
  return (value ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/** Roles typed as words separated by spaces or commas. */
function words(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

/** An optional text field: absent when left empty. */
function optional(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

const checked = (value: string | undefined) => value === 'on' || value === 'true';

export function appCreateForm(raw: Raw) {
  return validate(createAppSchema, { slug: raw.slug?.trim() ?? '', name: raw.name?.trim() ?? '' }, 'form');
}

export function appUpdateForm(raw: Raw) {
  let settings: unknown;
  const text = raw.settings?.trim();
  if (text) {
    try {
      settings = JSON.parse(text);
    } catch {
      throw new InvalidRequestError('The settings are not valid JSON.', [{ path: 'settings', message: 'is not valid JSON' }]);
    }
  }
  return validate(updateAppSchema, { name: optional(raw.name), ...(settings !== undefined ? { settings } : {}) }, 'form');
}

export function clientCreateForm(raw: Raw) {
  const isPublic = raw.type === 'public';
  return validate(createClientSchema, {
    name: raw.name?.trim() ?? '',
    redirect_uris: lines(raw.redirect_uris),
    post_logout_redirect_uris: lines(raw.post_logout_redirect_uris),
    token_endpoint_auth_method: isPublic ? 'none' : 'client_secret_basic',
    first_party: checked(raw.first_party),
  }, 'form');
}

export function clientUrisForm(raw: Raw) {
  return validate(updateClientSchema, { redirect_uris: lines(raw.redirect_uris), post_logout_redirect_uris: lines(raw.post_logout_redirect_uris) }, 'form');
}

export function tenantCreateForm(raw: Raw) {
  return validate(createTenantSchema, { slug: raw.slug?.trim() ?? '', name: raw.name?.trim() ?? '' }, 'form');
}

const memberForm = z.object({ email: emailSchema, roles: z.array(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'roles are 1-64 letters, digits, _ . : -')).max(50) });
export function memberAddForm(raw: Raw) {
  return validate(memberForm, { email: raw.email?.trim().toLowerCase() ?? '', roles: words(raw.roles) }, 'form');
}

const accountIdForm = z.object({ account_id: z.string().min(1).max(100) });
export function accountIdOf(raw: Raw) {
  return validate(accountIdForm, { account_id: raw.account_id ?? '' }, 'form').account_id;
}

export function accountCreateForm(raw: Raw) {
  return validate(createAccountSchema, {
    email: raw.email?.trim().toLowerCase() ?? '', name: optional(raw.name), password: optional(raw.password),
    ...(checked(raw.email_verified) ? { email_verified: true } : {}),
  }, 'form');
}

export function accountStatusForm(raw: Raw) {
  const status = raw.status === 'deactivated' ? 'deactivated' : raw.status === 'active' ? 'active' : raw.status;
  return validate(updateAccountSchema.pick({ status: true }).required(), { status }, 'form');
}

export function invitationForm(raw: Raw) {
  const roles = words(raw.roles);
  return validate(createInvitationSchema, {
    email: raw.email?.trim().toLowerCase() ?? '', name: optional(raw.name), tenant: optional(raw.tenant), ...(roles.length ? { roles } : {}),
  }, 'form');
}

const searchForm = z.object({ email: z.string().trim().max(254).optional() });
export function accountSearch(query: Record<string, unknown>) {
  return validate(searchForm, { email: typeof query.email === 'string' ? query.email : undefined }, 'search');
}

const operatorForm = z.object({ email: emailSchema, role: z.enum(CONSOLE_ROLES) });
export function operatorAddForm(raw: Raw) {
  return validate(operatorForm, { email: raw.email?.trim().toLowerCase() ?? '', role: raw.role ?? '' }, 'form');
}

export function webhookCreateForm(raw: Raw) {
  return validate(createWebhookSchema, { url: raw.url?.trim() ?? '', events: words(raw.events), description: optional(raw.description) }, 'form');
}

const webhookIdForm = z.object({ webhook: z.string().min(1).max(100) });
export function webhookIdOf(raw: Raw) {
  return validate(webhookIdForm, { webhook: raw.webhook ?? '' }, 'form').webhook;
}

const invitationIdForm = z.object({ invitation: z.string().min(1).max(100) });
export function invitationIdOf(raw: Raw) {
  return validate(invitationIdForm, { invitation: raw.invitation ?? '' }, 'form').invitation;
}
