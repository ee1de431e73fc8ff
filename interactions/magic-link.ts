/** Sign-in with an emailed link: asking for it (in the attempt) and opening it (in this or another browser). */
import type Router from '@koa/router';
import { form } from '../src/http/form.js';
import type { SignInDeps } from '../src/sign-in/deps.js';
import type { FormInput } from '../src/sign-in/attempt.js';
import {
  confirmOnThisDevice, confirmOnThisDevicePage, findLink, invalidSendLinkForm, linkSentPage, openLinkInAttempt, sendLink, sendLinkForm,
} from '../src/sign-in/methods/magic-link.js';
import type { ProviderPool } from '../src/provider/provider-pool.js';
import { attachAttempt, attemptCsrf, run, type loadAttempt } from './attempt-web.js';
import { linkCsrf, loadVisit, runVisit } from './link-page-web.js';
import { ATTEMPT } from './paths.js';
import { homeRealmStep } from './upstream.js';
import type { UpstreamDeps } from '../src/sign-in/methods/upstream.js';
import { z } from 'zod';

const CSRF_PURPOSE = 'link';

export function magicLinkRoutes(router: Router, attempt: ReturnType<typeof loadAttempt>, pool: ProviderPool, deps: SignInDeps & UpstreamDeps): void {
  const visit = loadVisit(pool, deps.tenants);
  router.post(`${ATTEMPT}/link/send`, attempt, form(sendLinkForm), attemptCsrf, homeRealmStep(deps, 'code_or_link'), run((a, input: FormInput<typeof sendLinkForm>) => sendLink(a, deps, input), invalidSendLinkForm));
  router.get(`${ATTEMPT}/link`, attempt, run((a) => linkSentPage(a, deps)));

  // The interaction cookie is scoped to the interaction's path, so the emailed link sends the browser there (303)
  // to find out whether it is the browser that asked for the link.
  router.get('/link/:token', visit, runVisit(async (v, _input, ctx) => {
    const stored = await findLink(v.app, deps, String(ctx.params.token));
    return { kind: 'redirect', to: `/apps/${v.app.slug}/interaction/${stored.uid}/link/${ctx.params.token}` };
  }));
  // In the browser whose attempt asked for the link: sign in. In any other: "Sign in on this device?".
  const openHere = run<undefined>((a, _input, ctx) => openLinkInAttempt(a, deps, String(ctx.params.token)));
  const askOtherDevice = runVisit<undefined>((v, _input, ctx) => confirmOnThisDevicePage(v, deps, String(ctx.params.token)));
  router.get(`${ATTEMPT}/link/:token`, visit, linkCsrf(CSRF_PURPOSE, { bindToBrowser: true }), async (ctx) =>
    ((await attachAttempt(ctx, pool)) ? openHere(ctx) : askOtherDevice(ctx)));
  router.post('/link/:token', visit, form(z.object({})), linkCsrf(CSRF_PURPOSE, { bindToBrowser: true }), runVisit((v, _input, ctx) => confirmOnThisDevice(v, deps, String(ctx.params.token))));
}

