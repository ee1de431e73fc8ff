/**
 * Routes of the interaction pages the provider sends people to (`/apps/{slug}/interaction/{uid}`). GET shows the
 * page the sign-in needs next; each POST is one form and answers 303 (post/redirect/get).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { ProviderPool } from '../src/provider/provider-pool.js';
import { loadStep, pendingOf, takeFlash, type Step } from './context.js';
import { continueSignIn } from './sign-in-sequence.js';
import { passwordLogin, renderLogin, type LoginDeps } from './login.js';
import { select } from './select.js';
import { abort, consent } from './consent.js';
import { renderCodePage, sendCode, verifyCode, type CodeDeps } from './one-time-code.js';

export type InteractionDeps = LoginDeps & CodeDeps & { pool: ProviderPool };

export function interactionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/apps/:slug/interaction/:uid' });
  const step = (handler: (step: Step) => Promise<void>) => async (ctx: Context) => handler(await loadStep(ctx, deps.pool));

  router.get('/', step(async (s) => {
    s.flash = await takeFlash(s);
    const pending = pendingOf(s);
    if (pending) return continueSignIn(s, deps, pending, 'render');
    const sessionAccount = s.interaction.session?.accountId;
    // Signed in already: the provider asks again only for tenant choice, account choice or consent.
    if (s.interaction.prompt.name !== 'login' && sessionAccount) {
      return continueSignIn(s, deps, { accountIds: [sessionAccount], amr: [], fresh: false }, 'render');
    }
    return renderLogin(s);
  }));
  router.post('/login', step((s) => passwordLogin(s, deps)));
  router.post('/code/send', step((s) => sendCode(s, deps)));
  router.get('/code', step(async (s) => {
    s.flash = await takeFlash(s);
    renderCodePage(s);
  }));
  router.post('/code', step((s) => verifyCode(s, deps)));
  router.post('/select', step((s) => select(s, deps)));
  router.post('/consent', step((s) => consent(s, deps)));
  router.post('/abort', step((s) => abort(s)));
  return router;
}
