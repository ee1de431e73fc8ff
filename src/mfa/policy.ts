/**
 * Second-factor policy: what an app (and a tenant) asks of a sign-in, and the `acr` values a sign-in earns.
 *
 * - `off`: no second factor is offered or asked; factors already enrolled stay stored, unused.
 * - `optional`: people may enrol; whoever has enrolled is asked at every sign-in; a relying party may ask for it.
 * - `required`: every sign-in needs a second factor; a person without one enrols during the sign-in.
 * A tenant with `mfa: required` applies `required` when the sign-in is to that tenant, whatever the app says.
 */
import type { AppRecord, AppSettings, TenantRecord } from '../storage/ports.js';

/** OIDC Core §2 `acr`: two factors were proved (NIST SP 800-63B AAL2-style multi-factor). */
export const ACR_MFA = 'urn:portcullis:acr:mfa';
/** One factor was proved. */
export const ACR_1FA = 'urn:portcullis:acr:1fa';
/** Advertised in discovery (`acr_values_supported`), weakest first. */
export const ACR_VALUES = [ACR_1FA, ACR_MFA] as const;

export type MfaPolicy = NonNullable<AppSettings['mfa']>;
export type MfaMethod = NonNullable<AppSettings['mfa_methods']>[number];

/** RFC 8176 `mfa` is present exactly when two factors were used; the `acr` follows from it. */
export function acrOf(amr: readonly string[]): string {
  return amr.includes('mfa') ? ACR_MFA : ACR_1FA;
}

/** The policy in force for a sign-in to `tenant` (or before a tenant is known). */
export function effectivePolicy(app: AppRecord, tenant?: Pick<TenantRecord, 'mfa'>): MfaPolicy {
  if (tenant?.mfa === 'required') return 'required';
  return app.settings.mfa ?? 'off';
}

/** The factors that count as a second factor in this app. */
export function countingMethods(app: AppRecord): readonly MfaMethod[] {
  return app.settings.mfa_methods ?? ['totp'];
}

/** True when `acr_values` (or an `acr` claim request) asks for two factors. */
export function asksForMfa(requestedAcrs: readonly string[] | undefined): boolean {
  return !!requestedAcrs?.includes(ACR_MFA);
}

/**
 * The acr values a `claims` request parameter (OIDC Core §5.5.1.1) asks for in the ID token:
 * `{"id_token": {"acr": {"essential": true, "values": [...]}}}` or `"value"`. Accepts the parsed object or its JSON
 * text (as an interaction keeps it); anything malformed asks for nothing (the provider rejects it on its own).
 */
export function acrsOfClaimsRequest(claims: unknown): string[] {
  let parsed = claims;
  if (typeof claims === 'string') {
    try {
      parsed = JSON.parse(claims);
    } catch {
      return [];
    }
  }
  const acr = (parsed as { id_token?: { acr?: { value?: unknown; values?: unknown } } } | null | undefined)?.id_token?.acr;
  if (!acr || typeof acr !== 'object') return [];
  return [acr.value, ...(Array.isArray(acr.values) ? acr.values : [])].filter((v): v is string => typeof v === 'string');
}
