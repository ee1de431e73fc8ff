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
import { renderLinkSentPage, sendLink } from './magic-link.js';
import { signInWithHandoff } from './login-handoff.js';
import { renderForgot, renderForgotSent, requestReset, type ResetDeps } from './password-reset.js';
import { register, renderRegister, renderVerify, verifyRegistration, type RegistrationDeps } from './registration.js';

export type InteractionDeps = LoginDeps & CodeDeps & ResetDeps & RegistrationDeps & { pool: ProviderPool };

export function interactionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/apps/:slug/interaction/:uid' });
  const step = (handler: (step: Step) => Promise<void>) => async (ctx: Context) => handler(await loadStep(ctx, deps.pool));
  /** A GET page: shows the message the previous POST left (post/redirect/get), then renders. */
  const page = (render: (step: Step) => void | Promise<void>) => step(async (s) => {
    s.flash = await takeFlash(s);
    await render(s);
  });

  router.get('/', page(async (s) => {
    const pending = pendingOf(s);
    if (pending) return continueSignIn(s, deps, pending, 'render');
    const sessionAccount = s.interaction.session?.accountId;
    // Signed in already: the provider asks again only for tenant choice, account choice or consent.
    if (s.interaction.prompt.name !== 'login' && sessionAccount) {
      return continueSignIn(s, deps, { accountIds: [sessionAccount], amr: [], fresh: false }, 'render');
    }
    // Just accepted an invitation or confirmed a sign-in link in this browser: no password asked (login-handoff.ts).
    if (s.interaction.prompt.name === 'login' && (await signInWithHandoff(s, deps))) return;
    return renderLogin(s);
  }));
  router.post('/login', step((s) => passwordLogin(s, deps)));
  router.post('/code/send', step((s) => sendCode(s, deps)));
  router.get('/code', page((s) => renderCodePage(s)));
  router.post('/code', step((s) => verifyCode(s, deps)));
  router.post('/link/send', step((s) => sendLink(s, deps)));
  router.get('/link', page((s) => renderLinkSentPage(s)));
  router.get('/forgot', page((s) => renderForgot(s)));
  router.post('/forgot', step((s) => requestReset(s, deps)));
  router.get('/forgot/sent', page((s) => renderForgotSent(s)));
  router.get('/register', page((s) => renderRegister(s)));
  router.post('/register', step((s) => register(s, deps)));
  router.get('/register/verify', page((s) => renderVerify(s, deps)));
  router.post('/register/verify', step((s) => verifyRegistration(s, deps)));
  router.post('/select', step((s) => select(s, deps)));
  router.post('/consent', step((s) => consent(s, deps)));
  router.post('/abort', step((s) => abort(s)));
  return router;
}
