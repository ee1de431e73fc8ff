/**
 * What each preset fills in: the known quirks of the big providers, so an operator only gives a client id and
 * secret. Anything given explicitly wins over the preset.
 */
import type { ConnectionClaimMapping, ConnectionRecord } from '../storage/ports.js';

export interface Preset {
  displayName: string;
  /** Undefined: the operator must give the issuer. */
  issuer?: string;
  scopes: string[];
  claimMapping: ConnectionClaimMapping;
}

const STANDARD: ConnectionClaimMapping = { subject: 'sub', email: 'email', emailVerified: 'email_verified', name: 'name' };

export const PRESETS: Record<ConnectionRecord['preset'], Preset> = {
  // Google: one issuer; `email_verified` is reliable for Gmail and Workspace accounts.
  google: { displayName: 'Google', issuer: 'https://accounts.google.com', scopes: ['openid', 'email', 'profile'], claimMapping: STANDARD },
  /**
   * Microsoft Entra ID, multi-tenant: the `organizations` endpoint's metadata names the issuer as the template
   * `https://login.microsoftonline.com/{tenantid}/v2.0`; each ID token's `iss` must be that template with the token's
   * own `tid` (entra-issuer.ts). Entra's `email` claim is not verified by Microsoft (any tenant admin can set it), so
   * it counts as verified only with `xms_edov` ("email domain owner verified", an optional claim the app registration
   * must request); `sub` is pairwise per registration and `iss` names the directory, so (iss, sub) is stable.
   */
  microsoft: {
    displayName: 'Microsoft', issuer: 'https://login.microsoftonline.com/organizations/v2.0', scopes: ['openid', 'email', 'profile'],
    claimMapping: { ...STANDARD, emailVerified: 'xms_edov' },
  },
  generic: { displayName: 'Single sign-on', scopes: ['openid', 'email', 'profile'], claimMapping: STANDARD },
};
