/** Admin API: a support agent checks the PIN a person shows them (registered through `adminRouter`'s `extend`). */
import { z } from 'zod';
import type { AdminHelpers } from '../admin/router.js';
import type { RouteRegistry } from '../admin/route-registry.js';
import { principalOf } from '../admin/admin-principal.js';
import type { AccountService } from '../accounts/account-service.js';
import { TooManyRequestsError } from '../errors.js';
import type { SupportPinService } from './support-pin-service.js';

export const verifyPinSchema = z.object({ pin: z.string().regex(/^\d{6}$/, 'six digits') }).strict();

export function registerSupportPinRoutes(registry: RouteRegistry, helpers: AdminHelpers, deps: { accounts: AccountService; pins: SupportPinService }): void {
  registry.add({ method: 'post', path: '/apps/:slug/accounts/:id/support-pin/verify', tag: 'accounts', body: verifyPinSchema,
    summary: 'Check the support PIN a person shows: {valid}; after 5 wrong PINs in an hour, 429 locked',
    handler: async ({ ctx, params, body }) => {
      const app = await helpers.app(params);
      const account = await deps.accounts.require(app, params.id);
      const check = await deps.pins.verify(app, account.id, body.pin, { actor: principalOf(ctx)?.keyId, ip: ctx.state.ip as string | undefined });
      if ('locked' in check) throw new TooManyRequestsError(check.retryAfterSeconds, 'Too many wrong PINs for this account in the last hour: verification is locked.');
      return { valid: check.valid };
    } });
}
