/**
 * The Admin API shape of an upstream connection, as zod schemas: they validate `POST/PATCH /apps/{slug}/connections`
 * and generate the OpenAPI document.
 */
import { z } from 'zod';
import { cleanText } from '../accounts/contact-schemas.js';

const slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lower-case letters, digits or dashes');
/** A claim name (also a stored object key, so no `.` or `$`). */
const claimName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_:-]{0,99}$/, 'must be a claim name: letters, digits, _ : -');
const role = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'roles are 1-64 letters, digits, _ . : -');
const claimValueKey = z.string().regex(/^[A-Za-z0-9_:-]{1,64}$/, 'must be 1-64 letters, digits, _ : -');
/** RFC 6749 §3.3 scope-token. */
const scope = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/, 'must be a scope token');
/** Entra ID directory (tenant) ids are GUIDs. */
export const ENTRA_TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The upstream's issuer (OpenID Connect Discovery 1.0 §4): https, or http to a loopback address only (an IdP on the
 * same host, and tests). Its keys decide who is signed in, so its metadata is never fetched in clear over a network.
 * Entra ID's `{tenantid}` template is not an issuer to discover: the microsoft preset discovers `organizations`.
 */
export const issuerSchema = z.url().max(2000).refine((value) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.hash || url.search || url.username) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}, 'must be an https URL without query or fragment (http only for a loopback address)');

/** A private JWK for private_key_jwt (RFC 7523 §2.2); write-only, stored encrypted. */
const privateJwk = z.object({
  kty: z.enum(['RSA', 'EC']),
  kid: z.string().max(200).optional(),
  alg: z.enum(['RS256', 'PS256', 'ES256', 'ES384']).optional(),
  crv: z.enum(['P-256', 'P-384']).optional(),
  n: z.string().max(4000).optional(), e: z.string().max(20).optional(), d: z.string().min(1).max(4000),
  p: z.string().max(2000).optional(), q: z.string().max(2000).optional(), dp: z.string().max(2000).optional(),
  dq: z.string().max(2000).optional(), qi: z.string().max(2000).optional(),
  x: z.string().max(200).optional(), y: z.string().max(200).optional(),
}).strict().refine((k) => (k.kty === 'RSA' ? Boolean(k.n && k.e && k.p && k.q) : Boolean(k.crv && k.x && k.y)), 'an incomplete private key');

export const connectionClaimMappingSchema = z.object({
  subject: claimName.optional(),
  email: claimName.optional(),
  email_verified: claimName.optional(),
  name: claimName.optional(),
  phone: claimName.optional(),
  /** A claim naming the tenant the person belongs to (like partner links), matched by slug, id or external id. */
  tenant: z.object({ claim: claimName, match: z.enum(['slug', 'id', 'external_id']).default('slug') }).strict().optional(),
  /** A claim whose values map to roles in that tenant (or in the tenant that owns the connection). */
  role: z.object({ claim: claimName, map: z.record(claimValueKey, role).default({}), default: role.optional() }).strict().optional(),
}).strict();

const settingsFields = {
  display_name: cleanText(100).refine((s) => s.trim().length > 0, 'must not be empty'),
  issuer: issuerSchema,
  client_id: z.string().min(1).max(500),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']),
  scopes: z.array(scope).min(1).max(20).refine((s) => s.includes('openid'), 'must include openid'),
  claim_mapping: connectionClaimMappingSchema,
  allowed_tenant_ids: z.array(z.string().regex(ENTRA_TENANT_ID, 'must be a directory (tenant) id, a lower-case GUID')).min(1).max(100).nullable(),
  provisioning: z.enum(['create', 'off']),
  link_by_verified_email: z.boolean(),
  store_tokens: z.boolean(),
  enabled: z.boolean(),
  position: z.number().int().min(0).max(1000).nullable(),
};
const secretFields = {
  /** Write-only; stored AES-256-GCM encrypted. */
  client_secret: z.string().min(1).max(2000).optional(),
  private_key_jwk: privateJwk.optional(),
};

const optional = <T extends Record<string, z.ZodType>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()])) as { [K in keyof T]: z.ZodOptional<T[K]> };

export const createConnectionSchema = z.object({
  slug,
  type: z.literal('oidc').default('oidc'),
  preset: z.enum(['google', 'microsoft', 'generic']).default('generic'),
  ...optional(settingsFields),
  display_name: settingsFields.display_name.optional(),
  client_id: settingsFields.client_id,
  ...secretFields,
}).strict()
  .refine((c) => c.preset !== 'generic' || c.issuer !== undefined, { message: 'a generic connection needs its issuer', path: ['issuer'] })
  .refine((c) => c.preset === 'microsoft' || c.allowed_tenant_ids == null, { message: 'only for the microsoft preset', path: ['allowed_tenant_ids'] })
  .refine((c) => !(c.client_secret && c.private_key_jwk), { message: 'give client_secret or private_key_jwk, not both', path: ['client_secret'] });

export const updateConnectionSchema = z.object({ ...optional(settingsFields), ...secretFields }).strict()
  .refine((c) => !(c.client_secret && c.private_key_jwk), { message: 'give client_secret or private_key_jwk, not both', path: ['client_secret'] });

export type CreateConnectionInput = z.output<typeof createConnectionSchema>;
export type UpdateConnectionInput = z.output<typeof updateConnectionSchema>;
