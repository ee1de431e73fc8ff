/**
 * Every Admin API input, as zod schemas. The same schemas validate requests and generate the OpenAPI document,
 * so the document cannot drift from what the routes accept. Objects are strict: unknown fields are a 400.
 */
import { z } from 'zod';
import { appSettingsSchema } from '../apps/settings.js';
import { roleNamesSchema, tenantBrandingSchema } from '../branding/branding-schema.js';
import { newPasswordSchema } from '../accounts/password-policy.js';
import { cleanText, emailSchema as email, phoneSchema } from '../accounts/contact-schemas.js';
import { ID_TOKEN_SIGNING_ALGS } from '../clients/client-service.js';

export { phoneSchema };

export const slugSchema = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lower-case letters, digits or dashes');
/** Names of apps, clients, tenants and people: no control characters or lone surrogates (MongoDB's BSON refuses them). */
const name = cleanText(200);
/** The one password rule (length, breached and common passwords): `accounts/password-policy.ts`. */
export const passwordSchema = newPasswordSchema;
/** Redirect URIs are compared exactly (RFC 9700 §4.1.3): no wildcards, no fragments. */
const redirectUri = z.string().max(2000).refine((value) => {
  try {
    const url = new URL(value);
    return !url.hash && !value.includes('*') && !['javascript:', 'data:', 'file:'].includes(url.protocol);
  } catch {
    return false;
  }
}, 'must be an absolute URI without fragment or wildcard');
const role = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'roles are 1-64 letters, digits, _ . : -');

export const createAppSchema = z.object({ slug: slugSchema, name, settings: appSettingsSchema.optional() }).strict();
/**
 * A PATCH of settings: every field optional and without its default. (`.partial()` alone keeps the defaults, and zod
 * fills them in for omitted fields, so `{registration:'open'}` would silently reset login_methods and the others.)
 */
type PatchShape<S extends z.ZodRawShape> = { [K in keyof S]: z.ZodOptional<S[K] extends z.ZodDefault<infer T> ? T : S[K]> };
function patchOf<S extends z.ZodRawShape>(schema: z.ZodObject<S>) {
  const shape = Object.fromEntries(Object.entries(schema.shape).map(([key, field]) => {
    const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : (field as z.ZodType);
    return [key, inner.optional()];
  })) as unknown as PatchShape<S>;
  return z.object(shape).strict();
}
export const settingsPatchSchema = patchOf(appSettingsSchema);
export const updateAppSchema = z.object({ name: name.optional(), settings: settingsPatchSchema.optional() }).strict();

export const createClientSchema = z.object({
  name,
  redirect_uris: z.array(redirectUri).min(1).max(20),
  post_logout_redirect_uris: z.array(redirectUri).max(20).optional(),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'])).min(1).max(4).optional(),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
  first_party: z.boolean().optional(),
  require_pkce: z.boolean().optional(),
  initiate_login_uri: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  /** The algorithms every app has keys for (see `apps/app-keys.ts`); ES256 when omitted at creation. */
  id_token_signed_response_alg: z.enum(ID_TOKEN_SIGNING_ALGS).optional(),
  /** RFC 9449 §5.2: every access token of this client is DPoP-bound. */
  require_dpop: z.boolean().optional(),
  /** The tenant (id or slug) the client belongs to, for its client_credentials tokens. */
  tenant: z.string().min(1).max(100).optional(),
  /** The account center's launcher: a line under the name, and whether the client is listed (default true). */
  description: cleanText(300).optional(),
  /** OIDC Registration §2: an https image the launcher shows beside the name (its origin joins the page's img-src). */
  logo_uri: z.url({ protocol: /^https$/ }).max(2000).optional(),
  show_in_launcher: z.boolean().optional(),
}).strict();
export const updateClientSchema = createClientSchema.omit({ token_endpoint_auth_method: true }).partial().strict();

export const createAccountSchema = z.object({
  email: email.optional(),
  phone_number: phoneSchema.optional(),
  password: passwordSchema.optional(),
  name: name.optional(),
  email_verified: z.boolean().optional(),
  phone_number_verified: z.boolean().optional(),
  locale: z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/).optional(),
}).strict().refine((a) => a.email !== undefined || a.phone_number !== undefined, { message: 'an email or a phone_number is required', path: ['email'] });
export const updateAccountSchema = z.object({
  email: email.optional(),
  phone_number: phoneSchema.optional(),
  password: passwordSchema.nullable().optional(),
  name: name.optional(),
  email_verified: z.boolean().optional(),
  phone_number_verified: z.boolean().optional(),
  status: z.enum(['active', 'invited', 'deactivated']).optional(),
  opted_out: z.boolean().optional(),
  locale: z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/).optional(),
}).strict();
export const listAccountsQuery = z.object({
  email: z.string().max(254).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  after: z.string().max(100).optional(),
}).strict();

/** A tenant's id in another system (e.g. a PSA company id that a partner's token carries). */
const externalId = z.string().regex(/^[A-Za-z0-9_.:@-]{1,200}$/, 'must be 1-200 letters, digits or _ . : @ -');
/** `mfa: required`: members signing in to this tenant need a second factor even when the app does not ask. */
const tenantMfa = z.enum(['inherit', 'required']);
/** Home realm discovery: the tenant's own IdP (a connection's slug; null removes it) and its email domains, unique per app. */
const homeRealm = { connection: slugSchema.nullable().optional(), domains: z.array(z.string().toLowerCase().regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain name such as contoso.com')).max(50).optional(), allow_password: z.boolean().optional() };
export const createTenantSchema = z.object({ slug: slugSchema, name, external_id: externalId.optional(), mfa: tenantMfa.optional(), branding: tenantBrandingSchema.optional(), role_names: roleNamesSchema.optional(), ...homeRealm }).strict();
export const updateTenantSchema = createTenantSchema.partial().strict();
export const membershipSchema = z.object({ roles: z.array(role).max(50) }).strict();

export const createInvitationSchema = z.object({
  email,
  name: name.optional(),
  tenant: z.string().max(100).optional(),
  roles: z.array(role).max(50).optional(),
  client_id: z.string().max(100).optional(),
}).strict();

/** Path parameters: strings with a sane length; anything else is a 404 at lookup. */
export const idParam = z.string().min(1).max(100);
