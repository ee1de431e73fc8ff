/**
 * Every page below `/apps/{slug}` that Portcullis serves itself, in one router: the sign-in attempt's pages
 * (`/interaction/{uid}/…`, where the provider sends people), the pages emailed links open, and the page a hand-off
 * shows when there is no relying party to land on. Everything else below `/apps/{slug}` is the app's provider.
 * Each flow's routes are in its own module; each route is an ordered list of small steps ending in one call into
 * the sign-in core (`src/sign-in/`).
 */
import Router from '@koa/router';
import type { InvitationService } from '../src/invitations/invitation-service.js';
import type { ProviderPool } from '../src/provider/provider-pool.js';
import type { SignInDeps } from '../src/sign-in/deps.js';
import { page } from '../src/sign-in/attempt.js';
import { loadAttempt } from './attempt-web.js';
import { loadVisit, runVisit } from './link-page-web.js';
import { loginRoutes } from './login.js';
import { oneTimeCodeRoutes } from './one-time-code.js';
import { magicLinkRoutes } from './magic-link.js';
import { registrationRoutes } from './registration.js';
import { passwordResetRoutes } from './password-reset.js';
import { invitationRoutes } from './invitation.js';
import { chooseRoutes } from './choose.js';
import { partnerLinkRoutes } from './partner-link.js';
import type { PartnerLinkDeps } from '../src/sign-in/methods/partner-link.js';
import { secondFactorRoutes } from './second-factor.js';
import { upstreamRoutes } from './upstream.js';
import type { UpstreamDeps } from '../src/sign-in/methods/upstream.js';

export interface AppPagesDeps extends SignInDeps, Omit<PartnerLinkDeps, keyof SignInDeps>, Omit<UpstreamDeps, keyof SignInDeps> {
  pool: ProviderPool;
  invitations: InvitationService;
}

export function appPagesRouter(deps: AppPagesDeps): Router {
  const router = new Router({ prefix: '/apps/:slug' });
  const attempt = loadAttempt(deps.pool, { tenants: deps.tenants, accounts: deps.accounts });
  loginRoutes(router, attempt, deps);
  oneTimeCodeRoutes(router, attempt, deps);
  magicLinkRoutes(router, attempt, deps.pool, deps);
  registrationRoutes(router, attempt, deps);
  passwordResetRoutes(router, attempt, deps.pool, deps);
  chooseRoutes(router, attempt, deps);
  secondFactorRoutes(router, attempt, deps);
  invitationRoutes(router, deps.pool, deps);
  partnerLinkRoutes(router, deps.pool, deps);
  upstreamRoutes(router, attempt, deps.pool, deps);
  router.get('/signed-in', loadVisit(deps.pool), runVisit(() => page('signed-in', { title: 'sign-in:signed_in.title', validMinutes: deps.lifetimes.handoff / 60 })));
  return router;
}
