/**
 * Admin API routes of second factors (registered through `adminRouter`'s `extend` hook): list an account's factors
 * (never a secret), remove one, or reset all (support case "lost my phone").
 */
import type { AdminHelpers } from '../admin/router.js';
import type { RouteRegistry } from '../admin/route-registry.js';
import type { AccountService } from '../accounts/account-service.js';
import { NotFoundError } from '../errors.js';
import { presentFactor, type FactorService } from './factor-service.js';

export function registerFactorRoutes(registry: RouteRegistry, helpers: AdminHelpers, deps: { factors: FactorService; accounts: AccountService }): void {
  const accountOf = async (params: Record<string, string>) => {
    const app = await helpers.app(params);
    const account = await deps.accounts.require(app, params.id);
    return { app, account };
  };
  registry.add({ method: 'get', path: '/apps/:slug/accounts/:id/factors', tag: 'accounts', summary: 'Second factors of an account (no secrets)',
    handler: async ({ params }) => {
      const { app, account } = await accountOf(params);
      return (await deps.factors.list(app, account.id)).map(presentFactor);
    } });
  registry.add({ method: 'delete', path: '/apps/:slug/accounts/:id/factors/:factor', tag: 'accounts', status: 204,
    summary: 'Remove one second factor (recovery codes go with the last factor)',
    handler: async ({ params }) => {
      const { app, account } = await accountOf(params);
      if (!(await deps.factors.remove(app, account.id, params.factor, 'admin'))) throw new NotFoundError('No such factor for this account.');
    } });
  registry.add({ method: 'delete', path: '/apps/:slug/accounts/:id/factors', tag: 'accounts', status: 204,
    summary: 'Remove every second factor of an account (the person enrols again at the next sign-in that needs one)',
    handler: async ({ params }) => {
      const { app, account } = await accountOf(params);
      await deps.factors.reset(app, account.id, 'admin');
    } });
}
