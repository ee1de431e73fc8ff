/**
 * Routes of the pages emailed links open, outside the interaction pages: invitations, sign-in links, and the page
 * a login hand-off shows when there is no relying party to land on.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { acceptInvitation, showInvitation, type InvitationPageDeps } from './invitation.js';
import { confirmLinkOnThisDevice, openLink, openLinkInInteraction, type MagicLinkDeps } from './magic-link.js';
import { loadApp, renderAppPage } from './emailed-link.js';
import { HANDOFF_TTL_SECONDS } from './login-handoff.js';

export type LinkRouterDeps = MagicLinkDeps & InvitationPageDeps;

export function linkRouter(deps: LinkRouterDeps): Router {
  const router = new Router({ prefix: '/apps/:slug' });
  router.get('/invitation/:token', (ctx) => showInvitation(ctx, deps));
  router.post('/invitation/:token', (ctx) => acceptInvitation(ctx, deps));
  router.get('/link/:token', (ctx) => openLink(ctx, deps));
  router.post('/link/:token', (ctx) => confirmLinkOnThisDevice(ctx, deps));
  router.get('/interaction/:uid/link/:token', (ctx) => openLinkInInteraction(ctx, deps));
  router.get('/signed-in', async (ctx: Context) => {
    const pooled = await loadApp(ctx, deps.pool);
    renderAppPage(ctx, pooled, 'signed-in', { title: 'You are all set', validMinutes: HANDOFF_TTL_SECONDS / 60 });
  });
  return router;
}
