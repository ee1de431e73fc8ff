/**
 * Step-up (OIDC Core §3.1.2.1 `acr_values`, §5.5.1.1 `acr`): an authorization request asking for
 * `urn:portcullis:acr:mfa` from a browser whose session proved one factor makes the provider ask for a login,
 * which the sign-in pages answer with a second factor only (the session's account goes on; see
 * `src/sign-in/sequence.ts` `resume`). `max_age` keeps working beside it: when it also fails, the person signs in
 * again from the start.
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { ACR_MFA, ACR_VALUES, acrsOfClaimsRequest } from '../mfa/policy.js';
import type { AppRecord } from '../storage/ports.js';
import type { TenantService } from '../tenants/tenant-service.js';

export const STEP_UP_CHECK = 'acr_step_up';
export { ACR_VALUES };

/** The acr values the request asks for: `acr_values`, or the `claims` parameter's `id_token.acr` request. */
export function requestedAcrs(ctx: KoaContextWithOIDC): string[] {
  const params = ctx.oidc.params as { acr_values?: unknown };
  const fromParam = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  return [...new Set([...fromParam, ...acrsOfClaimsRequest(ctx.oidc.claims)])];
}

/**
 * A login-prompt check: the session's `acr` is below what the request needs: `urn:portcullis:acr:mfa` asked for,
 * or a `tenant=` whose members need a second factor (an existing session would otherwise switch to it without a
 * page, see tenant-switch.ts).
 */
export function acrStepUpCheck(app: AppRecord, tenants: TenantService) {
  const { Check } = interactionPolicy;
  return new Check(STEP_UP_CHECK, 'a second factor is required', 'login_required', async (ctx) => {
    const { oidc } = ctx;
    // No session: the no_session check asks already. Just signed in: whatever the sign-in earned stands (an app
    // with MFA off cannot give two factors, and asking again would loop).
    if (!oidc.session?.accountId || oidc.result?.login || oidc.acr === ACR_MFA) return Check.NO_NEED_TO_PROMPT;
    if ((app.settings.mfa ?? 'off') !== 'off' && requestedAcrs(ctx).includes(ACR_MFA)) return Check.REQUEST_PROMPT;
    const requestedTenant = (oidc.params as { tenant?: unknown }).tenant;
    if (typeof requestedTenant === 'string' && (await tenants.find(app, requestedTenant))?.mfa === 'required') return Check.REQUEST_PROMPT;
    return Check.NO_NEED_TO_PROMPT;
  });
}

/**
 * The provider's own checks of an essential `acr` in the `claims` parameter (OIDC Core §5.5.1.1): with ours, they
 * ask for the same thing, a second factor.
 */
const STEP_UP_REASONS = new Set([STEP_UP_CHECK, 'essential_acr', 'essential_acrs']);

/** True when the login prompt's only reason is step-up (no missing session, no max_age): a factor suffices. */
export function isStepUpOnly(prompt: { name: string; reasons: string[] }): boolean {
  return prompt.name === 'login' && prompt.reasons.includes(STEP_UP_CHECK) && prompt.reasons.every((r) => STEP_UP_REASONS.has(r));
}
