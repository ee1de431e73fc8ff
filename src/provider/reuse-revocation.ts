/**
 * Parallel reuse of a code or refresh token is treated like sequential reuse.
 *
 * Sequentially, oidc-provider sees `consumed` on the second redemption and revokes the whole grant (RFC 6749
 * §4.1.2: "the authorization server … SHOULD revoke … all tokens previously issued based on that authorization
 * code"; RFC 9700 §4.14.2 for refresh tokens). In parallel, every request reads the record before any marks it, so
 * that check passes for all of them; our adapters' `consume` is therefore an atomic claim that fails with
 * `invalid_grant` for every caller but the first (`src/storage/consume-conflict.ts`). Here the losers also revoke
 * the grant, exactly as the library's sequential path does: the grant itself is destroyed, so tokens the winner
 * mints after this point are refused too (the library checks the grant on every use, refresh and introspection).
 */
import type { Adapter } from 'oidc-provider';
import { GRANTABLE_OIDC_MODELS, type OidcAdapterFactory } from '../storage/ports.js';
import { isConsumeConflict } from '../storage/consume-conflict.js';

/** The library's `revoke(ctx, grantId)`: every grant-bearing model's tokens of the grant, and the grant itself. */
export async function revokeGrant(adapters: (model: string) => Adapter, grantId: string): Promise<void> {
  await Promise.all([
    ...[...GRANTABLE_OIDC_MODELS].map((model) => adapters(model).revokeByGrantId(grantId)),
    adapters('Grant').destroy(grantId),
  ]);
}

/** Wraps one app's adapters so that a lost consume race revokes the grant before answering invalid_grant. */
export function revokingOnReuse(adapters: ReturnType<OidcAdapterFactory>): ReturnType<OidcAdapterFactory> {
  return (model) => {
    const adapter = adapters(model);
    if (!GRANTABLE_OIDC_MODELS.has(model)) return adapter;
    return {
      upsert: (id, payload, expiresIn) => adapter.upsert(id, payload, expiresIn),
      find: (id) => adapter.find(id),
      findByUid: (uid) => adapter.findByUid(uid),
      findByUserCode: (userCode) => adapter.findByUserCode(userCode),
      destroy: (id) => adapter.destroy(id),
      revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
      async consume(id: string): Promise<void> {
        try {
          await adapter.consume(id);
        } catch (error) {
          if (!isConsumeConflict(error)) throw error;
          const record = await adapter.find(id);
          if (typeof record?.grantId === 'string') await revokeGrant(adapters, record.grantId);
          throw error;
        }
      },
    };
  };
}
