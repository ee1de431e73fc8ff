/**
 * What an access token for an API resource says about its caller, so a portal API decides locally who calls, for
 * which tenant, with which roles:
 * - the tenant claims of the grant's tenant (`tenant_id`, `tenant_slug`, `roles`) on tokens for a person;
 * - for `client_credentials`, the client's own identity (`sub` = `client_id`, set by the library) and, when the
 *   client belongs to a tenant, that tenant (`tenant_id`, `tenant_slug`; no roles: a client has none);
 * - RFC 9068 §2.2.1 `auth_time`, `acr`, `amr` of the sign-in behind a JWT, when known.
 * Tokens without a resource (the userinfo tokens) are left as they are and cost no read.
 */
import type { AccessToken, ClientCredentials, KoaContextWithOIDC } from 'oidc-provider';
import type { AppRecord } from '../storage/ports.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { grantMembership } from './grant-membership.js';
import type { JwtAccessTokens } from './jwt-access-tokens.js';

type IssuedToken = AccessToken | ClientCredentials;

/** `extraTokenClaims`: in the JWT, and in introspection answers for opaque resource tokens. */
export function resourceTokenClaims(app: AppRecord, tenants: Pick<TenantService, 'membership' | 'find'>) {
  return async (ctx: KoaContextWithOIDC, token: IssuedToken) => {
    if (!token.resourceServer) return undefined;
    if (token.kind === 'ClientCredentials') return clientTenantClaims(app, tenants, ctx);
    const membership = await grantMembership(app, tenants, ctx);
    if (!membership) return undefined;
    return { tenant_id: membership.tenant.id, tenant_slug: membership.tenant.slug, roles: membership.roles };
  };
}

/** The tenant of the client itself (`urn:portcullis:tenant_id` in its metadata); none when it was deleted since. */
async function clientTenantClaims(app: AppRecord, tenants: Pick<TenantService, 'find'>, ctx: KoaContextWithOIDC) {
  const tenantId = ctx.oidc.client?.metadata()['urn:portcullis:tenant_id'];
  if (typeof tenantId !== 'string') return undefined;
  const tenant = await tenants.find(app, tenantId);
  return tenant ? { tenant_id: tenant.id, tenant_slug: tenant.slug } : undefined;
}

/** `formats.customizers.jwt`: the sign-in's claims, and the token's `jti` remembered for introspection. */
export function resourceJwtCustomizer(jwtTokens: JwtAccessTokens) {
  return async (ctx: KoaContextWithOIDC, token: IssuedToken, jwt: { payload: Record<string, unknown> }) => {
    const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
    if (token.kind === 'AccessToken' && source) {
      if (source.authTime) jwt.payload.auth_time = source.authTime;
      if (source.acr) jwt.payload.acr = source.acr;
      if (source.amr?.length) jwt.payload.amr = source.amr;
    }
    await jwtTokens.remember(jwt.payload, token.kind === 'AccessToken' ? token.grantId : undefined);
  };
}
