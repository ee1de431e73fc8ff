/**
 * The tenant a person signed in to is recorded on the oidc-provider Grant, so it follows the grant everywhere tokens
 * are minted from it: the code exchange, every refresh and userinfo. The Grant model persists only its own fields,
 * so the tenant travels as a marker entry in the grant's OIDC claim list; a marker is never a claim name a client
 * can request, so it never affects which claims are released.
 */
import type { Grant } from 'oidc-provider';

const MARKER = 'urn:portcullis:tenant:';

export function tenantOfGrant(grant: Pick<Grant, 'getOIDCClaims'> | undefined): string | undefined {
  const marker = grant?.getOIDCClaims().find((c) => c.startsWith(MARKER));
  return marker?.slice(MARKER.length);
}

/** The same, from a stored Grant payload (`openid.claims`), for code that reads grants from the store. */
export function tenantOfGrantPayload(payload: object): string | undefined {
  const openid = (payload as { openid?: { claims?: unknown } }).openid;
  const claims = Array.isArray(openid?.claims) ? (openid.claims as unknown[]) : [];
  const marker = claims.find((c): c is string => typeof c === 'string' && c.startsWith(MARKER));
  return marker?.slice(MARKER.length);
}

export function setGrantTenant(grant: Grant, tenantId: string | undefined): void {
  if (grant.openid?.claims) grant.openid.claims = grant.openid.claims.filter((c) => !c.startsWith(MARKER));
  if (tenantId) grant.addOIDCClaims([MARKER + tenantId]);
}
