/**
 * What every oidc adapter's `consume` answers when it cannot claim a record: oidc-provider's own `InvalidGrant`,
 * so the token endpoint answers `400 invalid_grant` like for any other unusable code or refresh token.
 *
 * The library reads a code (or refresh token), checks `consumed`, then calls `consume()`: two requests racing with
 * one code both pass the check. Making `consume()` an atomic claim that fails for every caller but the first is
 * what lets exactly one exchange win (RFC 6749 §4.1.2, RFC 9700 §4.2.4 and §4.14.2).
 */
import { errors } from 'oidc-provider';

const LABELS: Record<string, string> = {
  AuthorizationCode: 'authorization code',
  RefreshToken: 'refresh token',
  DeviceCode: 'device code',
  BackchannelAuthenticationRequest: 'backchannel authentication request',
};

/** The error a second (or late) `consume` of the same record throws. */
export function alreadyConsumed(model: string): InstanceType<typeof errors.InvalidGrant> {
  return new errors.InvalidGrant(`${LABELS[model] ?? model} already consumed`);
}

/** True for the error of {@link alreadyConsumed} (and any InvalidGrant an adapter's consume throws). */
export function isConsumeConflict(error: unknown): boolean {
  return error instanceof errors.InvalidGrant;
}
