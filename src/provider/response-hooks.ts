/**
 * Steps that look at (and may correct) what the provider answered, run by one provider middleware. Each returns a
 * promise only when it has work to do, so a request none of them concerns (every token request) passes through one
 * `await` instead of one async layer per step: each layer costs a promise, a microtask and a promise-hook call.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

/** Runs after the provider's answer is set; returns nothing when the request is none of its business. */
export type ResponseHook = (ctx: KoaContextWithOIDC) => Promise<void> | undefined;

/** One provider middleware running `hooks` in order once the provider has answered. */
export function afterProviderResponse(hooks: ResponseHook[]) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    await next();
    for (const hook of hooks) {
      const pending = hook(ctx);
      if (pending) await pending;
    }
  };
}
