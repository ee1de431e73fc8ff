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
import { discardHandoff, peekHandoff } from '../src/sign-in/handoff.js';
import { landingUri } from '../src/sign-in/landing.js';
import { openPartnerLink, PARTNER_LINK_MESSAGES, type PartnerLinkDeps, type PartnerLinkInput } from '../src/sign-in/methods/partner-link.js';
import { HANDOFF_COOKIE, loadVisit, runVisit, takeHandoffToken } from './link-page-web.js';
import { hmac, safeEqual, sha256 } from '../src/crypto/random.js';
import { ForbiddenError } from '../src/errors.js';

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
  router.post('/sso/:partner/continue', visit, form(switchForm), (ctx) => continueToLanding(ctx, deps));
}

/** The answer on "Which account do you want to continue with?". */
const switchForm = z.object({ continue_as: z.enum(['link', 'current']) });

/**
 * CSRF token of the account question, bound to this browser's hand-off token (an HttpOnly, SameSite=Lax cookie that
 * another site can neither read nor send with a cross-site post) and signed with the app's key (OWASP ASVS V4.2.2).
 */
function switchCsrf(pooled: PooledProvider, handoffToken: string): string {
  return hmac(String((pooled.provider.keys as string[] | undefined)?.[0] ?? ''), `csrf:account-switch:${sha256(handoffToken)}`);
}

const label = (account: { name?: string; email?: string } | undefined, fallback: string) => account?.name || account?.email || fallback;

/**
 * After a link was accepted, on to the landing client's initiate_login_uri. A browser signed in to this app as
 * somebody else is first asked which account to continue with: continuing as the link's person ends the other
 * session (oidc-provider would otherwise answer the authorization request with the other account); staying drops
 * the hand-off, so the relying party gets the account already signed in.
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
  if (session.accountId && !handoff.accountIds.includes(session.accountId)) {
    const answer = ctx.method === 'POST' ? formOf<z.output<typeof switchForm>>(ctx) : undefined;
    if (answer && !safeEqual(answer.raw._csrf ?? '', switchCsrf(pooled, token!))) {
      throw new ForbiddenError('The form has expired or did not come from this site. Reload the page and try again.');
    }
    if (!answer?.input) {
      const [current, next] = await Promise.all([deps.accounts.find(visit.app, session.accountId), deps.accounts.find(visit.app, handoff.accountIds[0])]);
      return renderPage(ctx, 'account-switch', {
        app: visit.app,
        title: 'sign-in:switch.title',
        current: label(current, 'another account'),
        next: label(next, handoff.loginHint ?? 'the account of this link'),
        action: ctx.path,
        csrf: switchCsrf(pooled, token!),
      });
    }
    if (answer.input.continue_as === 'link') await session.destroy();
    else await dropHandoff(ctx, visit, deps, token!);
  }
  ctx.status = 303;
  ctx.redirect((await landingUri(visit, handoff.clientId, handoff.loginHint)) ?? `/apps/${visit.app.slug}/signed-in`);
}

/** Forgets the hand-off, in the store and in this browser. */
async function dropHandoff(ctx: Context, visit: AppVisit, deps: PartnerLinkDeps, token: string): Promise<void> {
  await discardHandoff(visit, deps, token);
  takeHandoffToken(ctx, visit.app.slug);
}
