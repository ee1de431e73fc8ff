/**
 * The Admin API shape of a partner (names pinned so operators' scripts and the docs agree), as zod schemas:
 * they validate `POST/PATCH /apps/{slug}/partners` and generate the OpenAPI document.
 */
import { z } from 'zod';
import { cleanText } from '../accounts/contact-schemas.js';

/** RFC 8725 §3.1: only these; `none` never, and each key type only with its own family. */
export const SYMMETRIC_ALGS = ['HS256', 'HS384', 'HS512'] as const;
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export const MAX_TOKEN_AGE_LIMIT = 300;

const slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lower-case letters, digits or dashes');
/** A claim name (also used as a stored object key, so no `.` or `$`). */
const claimName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_:-]{0,99}$/, 'must be a claim name: letters, digits, _ : -');
/** An account field for an external id: lower-case, as it appears in `external_ids`. */
const fieldName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be lower-case letters, digits or _');
const role = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'roles are 1-64 letters, digits, _ . : -');
const claimValueKey = z.string().regex(/^[A-Za-z0-9_:-]{1,64}$/, 'must be 1-64 letters, digits, _ : -');

/**
 * A jwks_uri: https, or http to a loopback address only (a partner on the same host, and tests). The keys decide who
 * may sign people in, so they are never fetched in clear text over a network.
 */
const jwksUri = z.url().max(2000).refine((value) => {
  const url = new URL(value);
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}, 'must be an https URL (http only for a loopback address)');

const publicJwk = z.object({
  kty: z.enum(['RSA', 'EC', 'OKP']),
  kid: z.string().max(200).optional(),
  alg: z.string().max(20).optional(),
  use: z.string().max(10).optional(),
  crv: z.string().max(20).optional(),
  n: z.string().max(4000).optional(),
  e: z.string().max(20).optional(),
  x: z.string().max(200).optional(),
  y: z.string().max(200).optional(),
}).strict().refine((k) => (k.kty === 'RSA' ? Boolean(k.n && k.e) : Boolean(k.crv && k.x && (k.kty === 'OKP' || k.y))), 'an incomplete public key')
  // Public keys only: a JWK with `d` (a private key) is refused by `.strict()` above.
  ;
export const jwksSchema = z.object({ keys: z.array(publicJwk).min(1).max(20) }).strict();

const tenantMapping = z.object({
  claim: claimName,
  match: z.enum(['slug', 'id', 'external_id']).default('slug'),
  create: z.boolean().default(false),
}).strict();
const roleMapping = z.object({
  claim: claimName,
  map: z.record(claimValueKey, role).default({}),
  default: role.optional(),
}).strict();

export const claimMappingSchema = z.object({
  subject: claimName.default('sub'),
  email: claimName.default('email'),
  name: claimName.default('name'),
  tenant: tenantMapping.optional(),
  role: roleMapping.optional(),
  external_ids: z.record(fieldName, claimName).default({}),
}).strict();

const keyFields = {
  /** HS*: the UTF-8 bytes of this string (as a partner's environment variable holds it). Write-only. */
  secret: z.string().min(32, 'must be at least 32 bytes').max(512).refine((s) => Buffer.byteLength(s, 'utf8') >= 32, 'must be at least 32 bytes').optional(),
  jwks: jwksSchema.optional(),
  jwks_uri: jwksUri.optional(),
};

const settingsFields = {
  name: cleanText(200),
  issuer: z.string().min(1).max(2000),
  audience: z.string().min(1).max(2000).optional(),
  algorithms: z.array(z.enum([...SYMMETRIC_ALGS, ...ASYMMETRIC_ALGS])).min(1).max(13).optional(),
  required_claims: z.record(claimName, z.union([z.string().max(500), z.number(), z.boolean()])).refine((r) => Object.keys(r).length <= 20, 'at most 20 claims').optional(),
  max_token_age_seconds: z.number().int().min(1).max(MAX_TOKEN_AGE_LIMIT).optional(),
  clock_skew_seconds: z.number().int().min(0).max(60).optional(),
  provisioning: z.enum(['create', 'off']).optional(),
  claim_mapping: claimMappingSchema.optional(),
  landing: z.object({ client_id: z.string().min(1).max(100) }).strict().optional(),
};

const exactlyOneKey = (p: { secret?: unknown; jwks?: unknown; jwks_uri?: unknown }) =>
  [p.secret, p.jwks, p.jwks_uri].filter((k) => k !== undefined).length === 1;
const atMostOneKey = (p: { secret?: unknown; jwks?: unknown; jwks_uri?: unknown }) =>
  [p.secret, p.jwks, p.jwks_uri].filter((k) => k !== undefined).length <= 1;

export const createPartnerSchema = z.object({ slug, ...settingsFields, ...keyFields }).strict()
  .refine(exactlyOneKey, { message: 'exactly one of secret, jwks or jwks_uri is required', path: ['secret'] });

/** A PATCH: any field; a key field replaces the partner's keys (the other kinds are removed). */
export const updatePartnerSchema = z.object({
  ...Object.fromEntries(Object.entries(settingsFields).map(([k, v]) => [k, (v as z.ZodType).optional()])) as { [K in keyof typeof settingsFields]: z.ZodOptional<(typeof settingsFields)[K]> },
  ...keyFields,
}).strict().refine(atMostOneKey, { message: 'give at most one of secret, jwks or jwks_uri', path: ['secret'] });

export type CreatePartnerInput = z.output<typeof createPartnerSchema>;
export type UpdatePartnerInput = z.output<typeof updatePartnerSchema>;
