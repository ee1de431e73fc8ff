/**
 * The Admin API shape of an API resource (names pinned by issue 12), as zod schemas: they validate
 * `POST/PATCH /apps/{slug}/resources` and generate the OpenAPI document.
 */
import { z } from 'zod';
import { cleanText } from '../accounts/contact-schemas.js';

/** RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`. */
const scopeValue = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/, 'must be 1-100 printable characters without spaces, " or \\');
/** Scopes of the app's own issuer (OIDC Core §5.4, §11): never an API's scope, so a token never mixes the two. */
export const RESERVED_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email', 'phone', 'address']);
const role = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'roles are 1-64 letters, digits, _ . : -');
const clientId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a client id');

/** RFC 8707 §2: an absolute URI without a fragment. Only https (or http) APIs: the identifier is the tokens' `aud`. */
export const identifierSchema = z.string().max(2000).refine((value) => {
  const url = URL.parse(value);
  return !!url && ['https:', 'http:'].includes(url.protocol) && !value.includes('#') && url.href === value;
}, 'must be an absolute http(s) URI without fragment, in normalised form (e.g. https://api.example.com/)');

const scopeSchema = z.object({
  value: scopeValue.refine((v) => !RESERVED_SCOPES.has(v), 'is an OpenID Connect scope of the app itself'),
  description: cleanText(500).optional(),
}).strict();

const scopesSchema = z.array(scopeSchema).max(100)
  .refine((list) => new Set(list.map((s) => s.value)).size === list.length, 'scope values must be unique');

const roleScopesSchema = z.record(role, z.array(scopeValue).max(100)).refine((map) => Object.keys(map).length <= 100, 'at most 100 roles');

const fields = {
  identifier: identifierSchema,
  name: cleanText(200),
  scopes: scopesSchema,
  access_token_format: z.enum(['jwt', 'opaque']),
  /** 5 minutes by default: revocation reaches APIs that only validate the JWT locally within that time. */
  access_token_ttl_seconds: z.number().int().min(30).max(86_400),
  allowed_clients: z.array(clientId).max(500),
  role_scopes: roleScopesSchema,
  require_dpop: z.boolean(),
  is_default: z.boolean(),
};

export const DEFAULT_RESOURCE_TTL_SECONDS = 300;

export const createResourceSchema = z.object({
  identifier: fields.identifier,
  name: fields.name,
  scopes: fields.scopes.default([]),
  access_token_format: fields.access_token_format.default('jwt'),
  access_token_ttl_seconds: fields.access_token_ttl_seconds.default(DEFAULT_RESOURCE_TTL_SECONDS),
  allowed_clients: fields.allowed_clients.optional(),
  role_scopes: fields.role_scopes.optional(),
  require_dpop: fields.require_dpop.default(false),
  is_default: fields.is_default.default(false),
}).strict();

/** A PATCH: every field optional; `allowed_clients: null` and `role_scopes: null` remove the limit. */
export const updateResourceSchema = z.object({
  identifier: fields.identifier.optional(),
  name: fields.name.optional(),
  scopes: fields.scopes.optional(),
  access_token_format: fields.access_token_format.optional(),
  access_token_ttl_seconds: fields.access_token_ttl_seconds.optional(),
  allowed_clients: fields.allowed_clients.nullable().optional(),
  role_scopes: fields.role_scopes.nullable().optional(),
  require_dpop: fields.require_dpop.optional(),
  is_default: fields.is_default.optional(),
}).strict();

export type ResourceInput = z.output<typeof createResourceSchema>;
export type ResourcePatch = z.output<typeof updateResourceSchema>;
