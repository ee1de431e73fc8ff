/**
 * Admin API routes of an account's sessions and offboarding (registered through `adminRouter`'s `extend` hook):
 * list and end sessions, sign out everywhere, the sign-in history, deactivate and reactivate.
 */
import type { Context } from 'koa';
import type { AdminHelpers } from '../admin/router.js';
import type { RouteRegistry } from '../admin/route-registry.js';
import { principalOf } from '../admin/admin-principal.js';
import { presentAccount, type AccountService } from '../accounts/account-service.js';
import { NotFoundError } from '../errors.js';
import { presentGrantView, presentSession, type AccountSessions } from './account-sessions.js';
import type { Offboarding, Requester } from './offboarding.js';
import { presentSignInAttempt, type SignInHistory } from './sign-in-history.js';

export interface SessionRouteDeps {
  accounts: AccountService;
  sessions: AccountSessions;
  offboarding: Offboarding;
  history: SignInHistory;
}

export function registerSessionRoutes(registry: RouteRegistry, helpers: AdminHelpers, deps: SessionRouteDeps): void {
  const accountOf = async (params: Record<string, string>) => {
    const app = await helpers.app(params);
    const account = await deps.accounts.require(app, params.id);
    return { app, account };
  };
  const admin = (ctx: Context): Requester => ({ by: 'admin', actor: principalOf(ctx)?.keyId, ip: ctx.state.ip as string | undefined });

  registry.add({ method: 'get', path: '/apps/:slug/accounts/:id/sessions', tag: 'accounts',
    summary: 'Active browser sessions of an account (created, last used, IP, browser, sign-in method, clients)',
    handler: async ({ params }) => {
      const { app, account } = await accountOf(params);
      return (await deps.sessions.sessions(app, account.id)).map((s) => presentSession(s));
    } });
  registry.add({ method: 'delete', path: '/apps/:slug/accounts/:id/sessions', tag: 'accounts', status: 204,
    summary: 'Sign out everywhere: ends every session, grant, refresh token and access token of the account',
    handler: async ({ ctx, params }) => {
      const { app, account } = await accountOf(params);
      await deps.offboarding.signOutEverywhere(app, account.id, admin(ctx));
    } });
  registry.add({ method: 'delete', path: '/apps/:slug/accounts/:id/sessions/:sid', tag: 'accounts', status: 204,
    summary: 'End one session and the grants (tokens) issued through it',
    handler: async ({ ctx, params }) => {
      const { app, account } = await accountOf(params);
      if (!(await deps.offboarding.endSession(app, account.id, params.sid, admin(ctx)))) throw new NotFoundError('No such session for this account.');
    } });
  registry.add({ method: 'get', path: '/apps/:slug/accounts/:id/grants', tag: 'accounts',
    summary: 'Grants of an account (connected apps: client, scopes, tenant)',
    handler: async ({ params }) => {
      const { app, account } = await accountOf(params);
      return (await deps.sessions.grants(app, account.id)).map(presentGrantView);
    } });
  registry.add({ method: 'get', path: '/apps/:slug/accounts/:id/sign-ins', tag: 'accounts',
    summary: 'Sign-in history: the last 50 attempts, successful or not (time, method, result, IP, browser)',
    handler: async ({ params }) => {
      const { app, account } = await accountOf(params);
      return (await deps.history.list(app, account.id)).map(presentSignInAttempt);
    } });
  registry.add({ method: 'post', path: '/apps/:slug/accounts/:id/deactivate', tag: 'accounts',
    summary: 'Deactivate an account: it can no longer sign in, and all its sessions and tokens end',
    handler: async ({ ctx, params }) => {
      const { app, account } = await accountOf(params);
      return presentAccount(await deps.offboarding.deactivate(app, account.id, admin(ctx)));
    } });
  registry.add({ method: 'post', path: '/apps/:slug/accounts/:id/reactivate', tag: 'accounts',
    summary: 'Reactivate a deactivated account (ended sessions and tokens stay ended)',
    handler: async ({ ctx, params }) => {
      const { app, account } = await accountOf(params);
      return presentAccount(await deps.offboarding.reactivate(app, account.id, admin(ctx)));
    } });
}
