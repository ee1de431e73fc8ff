import type { OidcAccountIndex, OidcAdapterFactory } from './ports.js';

/**
 * oidc-provider models that must outlive a restart of the short-lived store: grants and refresh tokens (they last
 * days or weeks). Everything else (sessions, interactions, codes, access tokens, replay ids…) is short-lived.
 */
export const DURABLE_OIDC_MODELS = new Set(['Grant', 'RefreshToken']);

/**
 * Routes each oidc-provider model to the store that fits its lifetime. `revokeByGrantId` needs no special care:
 * the provider calls it on the adapter of every model that carries a grant id, so each store clears its own.
 */
export function splitOidcAdapter(durable: OidcAdapterFactory, shortLived: OidcAdapterFactory): OidcAdapterFactory {
  return (appId) => {
    const longTerm = durable(appId);
    const shortTerm = shortLived(appId);
    return (model) => (DURABLE_OIDC_MODELS.has(model) ? longTerm(model) : shortTerm(model));
  };
}

/** The account index of a split store: each model is looked up where `splitOidcAdapter` stores it. */
export function splitAccountIndex(durable: OidcAccountIndex, shortLived: OidcAccountIndex): OidcAccountIndex {
  return {
    listByAccount: (appId, model, accountId) => (DURABLE_OIDC_MODELS.has(model) ? durable : shortLived).listByAccount(appId, model, accountId),
  };
}
