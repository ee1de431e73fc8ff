/**
 * Partner sign-in links (`src/sign-in/methods/partner-link.ts`): `GET /sso/{partner}?token=…&client_id=…`, the same
 * as a form POSTed from the partner's site, and the same-site continue step that sends the browser on to the
 * relying party.
 *
 * No CSRF token protects the POST: the partner's page posts it cross-site, so it cannot carry one of ours. The signed
 * token is the protection: it names the person, is bound to this app (`aud`) and partner (`iss`), lives seconds,
 * and is single use (its `jti`), so a forged or replayed post signs nobody in.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { form, formOf } from '../src/http/form.js';
import { renderPage } from '../src/http/render-page.js';
import type { PooledProvider, ProviderPool } from '../src/provider/provider-pool.js';
import type { AppVisit } from '../src/sign-in/attempt.js';
import { peekHandoff } from '../src/sign-in/handoff.js';
import { landingUri } from '../src/sign-in/landing.js';
import { openPartnerLink, PARTNER_LINK_MESSAGES, type PartnerLinkDeps, type PartnerLinkInput } from '../src/sign-in/methods/partner-link.js';
import { HANDOFF_COOKIE, loadVisit, runVisit } from './link-page-web.js';

const linkForm = z.object({ token: z.string().max(16_384).optional(), client_id: z.string().max(100).optional() });
const single = (value: unknown) => (typeof value === 'string' ? value : undefined);
const continuePath = (slug: string, partner: string) => `/apps/${slug}/sso/${partner}/continue`;

export function partnerLinkRoutes(router: Router, pool: ProviderPool, deps: PartnerLinkDeps): void {
  const visit = loadVisit(pool);
  const open = (input: (ctx: Context) => PartnerLinkInput) => runVisit((v, _form, ctx) =>
    openPartnerLink(v, deps, String(ctx.params.partner), input(ctx), continuePath(v.app.slug, String(ctx.params.partner))));

  router.get('/sso/:partner', visit, open((ctx) => ({ token: single(ctx.query.token), clientId: single(ctx.query.client_id) })));
  router.post('/sso/:partner', visit, form(linkForm), open((ctx) => {
    const input = formOf<z.output<typeof linkForm>>(ctx).input;
    return { token: input?.token, clientId: input?.client_id };
  }));
  router.get('/sso/:partner/continue', visit, (ctx) => continueToLanding(ctx, deps));
}

/**
 * After a link was accepted: a browser signed in to this app as somebody else has that session ended, so the person
 * the partner vouched for is the one the relying party gets (oidc-provider would otherwise answer the authorization
 * request with the other account); then on to the landing client's initiate_login_uri.
 */
async function continueToLanding(ctx: Context, deps: PartnerLinkDeps): Promise<void> {
  const { visit, pooled } = ctx.state.visit as { visit: AppVisit; pooled: PooledProvider };
  const token = ctx.cookies.get(HANDOFF_COOKIE, { signed: false });
  const handoff = token ? await peekHandoff(visit, deps, token) : undefined;
  if (!handoff) {
    const message = PARTNER_LINK_MESSAGES.expired;
    return renderPage(ctx, 'error', { app: visit.app, title: message.title, description: message.description, error: 'partner_link_expired' }, { status: 400 });
  }
  const session = await pooled.provider.Session.get(ctx as never);
  if (session.accountId && !handoff.accountIds.includes(session.accountId)) await session.destroy();
  ctx.status = 303;
  ctx.redirect((await landingUri(visit, handoff.clientId, handoff.loginHint)) ?? `/apps/${visit.app.slug}/signed-in`);
}
