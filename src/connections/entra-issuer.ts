/**
 * Microsoft Entra ID's multi-tenant issuer: discovery of `…/organizations/v2.0` (or `common`) names the issuer
 * `https://login.microsoftonline.com/{tenantid}/v2.0`, a template rather than a value. An ID token is from a
 * directory only when its `iss` is that template filled with its own `tid` claim (Microsoft identity platform docs,
 * "Validate the issuer"); otherwise any Entra directory could mint tokens that look like another's. openid-client
 * applies the same rule when it talks to login.microsoftonline.com; this module is the rule itself, checked again on
 * the validated claims, plus the connection's optional list of accepted directories.
 */
import { ENTRA_TENANT_ID } from './connection-schemas.js';

export const TENANT_PLACEHOLDER = '{tenantid}';

export function isIssuerTemplate(issuer: string): boolean {
  return issuer.includes(TENANT_PLACEHOLDER);
}

export type EntraIssuerProblem = 'missing_tid' | 'issuer_mismatch' | 'tenant_not_allowed';

/**
 * The problem with `claims` under the issuer template, or undefined when `iss` is the template filled with `tid`
 * (a directory id) and that directory is allowed.
 */
export function entraIssuerProblem(template: string, claims: Record<string, unknown>, allowedTenantIds?: readonly string[]): EntraIssuerProblem | undefined {
  const tid = claims.tid;
  if (typeof tid !== 'string' || !ENTRA_TENANT_ID.test(tid)) return 'missing_tid';
  if (claims.iss !== template.replace(TENANT_PLACEHOLDER, tid)) return 'issuer_mismatch';
  if (allowedTenantIds && !allowedTenantIds.includes(tid)) return 'tenant_not_allowed';
  return undefined;
}
