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
import { createPartnerSchema, updatePartnerSchema } from '../partners/partner-schemas.js';
import { createConnectionSchema, updateConnectionSchema } from '../connections/connection-schemas.js';

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

/** A JSON text area: absent when left empty, a 400 naming the field when it is not JSON. */
function json(raw: Raw, field: string): unknown {
  const text = raw[field]?.trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidRequestError(`The ${field} field is not valid JSON.`, [{ path: field, message: 'is not valid JSON' }]);
  }
}

/** A whole number field: absent when left empty (the schema refuses what is not an integer). */
function integer(value: string | undefined): number | string | undefined {
  const text = optional(value);
  return text === undefined ? undefined : /^-?\d+$/.test(text) ? Number(text) : text;
}

/** Drops absent fields, so a form's empty field means "unchanged" in a PATCH and "the default" on create. */
function defined<T extends Record<string, unknown>>(body: T): Partial<T> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function appUpdateForm(raw: Raw) {
  return validate(updateAppSchema, defined({ name: optional(raw.name), settings: json(raw, 'settings') }), 'form');
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

/**
 * A partner's fields as the form has them. Write-only keys (`secret`, `jwks`, `jwks_uri`) are sent only when typed:
 * on the edit page an empty key field keeps the partner's keys.
 */
function partnerFields(raw: Raw) {
  const algorithms = words(raw.algorithms);
  const landing = optional(raw.landing_client_id);
  return defined({
    name: optional(raw.name),
    issuer: optional(raw.issuer),
    audience: optional(raw.audience),
    algorithms: algorithms.length ? algorithms : undefined,
    max_token_age_seconds: integer(raw.max_token_age_seconds),
    clock_skew_seconds: integer(raw.clock_skew_seconds),
    provisioning: optional(raw.provisioning),
    claim_mapping: json(raw, 'claim_mapping'),
    required_claims: json(raw, 'required_claims'),
    landing: landing ? { client_id: landing } : undefined,
    secret: raw.secret ? raw.secret : undefined,
    jwks: json(raw, 'jwks'),
    jwks_uri: optional(raw.jwks_uri),
  });
}

export function partnerCreateForm(raw: Raw) {
  return validate(createPartnerSchema, { slug: raw.slug?.trim() ?? '', name: raw.name?.trim() ?? '', issuer: raw.issuer?.trim() ?? '', ...partnerFields(raw) }, 'form');
}

export function partnerUpdateForm(raw: Raw) {
  return validate(updatePartnerSchema, partnerFields(raw), 'form');
}

/**
 * A connection's fields as the form has them. Check boxes are always sent (an unchecked box is `false`); the client
 * secret and private key are write-only and sent only when typed.
 */
function connectionFields(raw: Raw) {
  const scopes = words(raw.scopes);
  const tenantIds = lines(raw.allowed_tenant_ids);
  return defined({
    display_name: optional(raw.display_name),
    issuer: optional(raw.issuer),
    client_id: optional(raw.client_id),
    token_endpoint_auth_method: optional(raw.token_endpoint_auth_method),
    scopes: scopes.length ? scopes : undefined,
    claim_mapping: json(raw, 'claim_mapping'),
    allowed_tenant_ids: tenantIds.length ? tenantIds : undefined,
    provisioning: optional(raw.provisioning),
    link_by_verified_email: checked(raw.link_by_verified_email),
    store_tokens: checked(raw.store_tokens),
    enabled: checked(raw.enabled),
    position: integer(raw.position),
    client_secret: raw.client_secret ? raw.client_secret : undefined,
    private_key_jwk: json(raw, 'private_key_jwk'),
  });
}

export function connectionCreateForm(raw: Raw) {
  return validate(createConnectionSchema, {
    slug: raw.slug?.trim() ?? '', preset: optional(raw.preset), client_id: raw.client_id?.trim() ?? '', ...connectionFields(raw),
  }, 'form');
}

export function connectionUpdateForm(raw: Raw) {
  // An emptied list of directories removes the restriction (`null`, as in the Admin API), for the microsoft preset.
  const fields = connectionFields(raw);
  return validate(updateConnectionSchema, { ...fields, allowed_tenant_ids: fields.allowed_tenant_ids ?? (raw.allowed_tenant_ids !== undefined ? null : undefined) }, 'form');
}

const enabledForm = z.object({ enabled: z.enum(['true', 'false']) });
export function enabledOf(raw: Raw): boolean {
  return validate(enabledForm, { enabled: raw.enabled ?? '' }, 'form').enabled === 'true';
}
