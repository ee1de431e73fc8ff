/** The page an invitation email links to (outside any attempt): shown any number of times, accepted once. */
import type Router from '@koa/router';
import { form } from '../src/http/form.js';
import type { InvitationService } from '../src/invitations/invitation-service.js';
import type { ProviderPool } from '../src/provider/provider-pool.js';
import type { SignInDeps } from '../src/sign-in/deps.js';
import type { FormInput } from '../src/sign-in/attempt.js';
import { acceptForm, acceptInvitation, invitationPage } from '../src/sign-in/methods/invitation.js';
import { linkCsrf, loadVisit, runVisit } from './link-page-web.js';

/** Accepting signs this browser in: the form is bound to the link and to this browser. */
const invitationCsrf = linkCsrf('invitation', { bindToBrowser: true });

export function invitationRoutes(router: Router, pool: ProviderPool, deps: SignInDeps & { invitations: InvitationService }): void {
  const visit = loadVisit(pool, deps.tenants);
  router.get('/invitation/:token', visit, invitationCsrf, runVisit((v, _input, ctx) => invitationPage(v, deps, String(ctx.params.token))));
  router.post('/invitation/:token', visit, form(acceptForm), invitationCsrf, runVisit((v, input: FormInput<typeof acceptForm> | undefined, ctx) => acceptInvitation(v, deps, String(ctx.params.token), input)));
}
