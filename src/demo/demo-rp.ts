/**
 * A tiny relying party at `/demo`, built with openid-client exactly as a portal would use it: it signs in through
 * the demo app (authorization code + PKCE) and shows the ID token's claims. Embedded store only.
 */
import Router from '@koa/router';
import * as oidc from 'openid-client';
import { randomId } from '../crypto/random.js';
import { renderPage } from '../http/render-page.js';

export function demoRouter(options: { issuer: string; clientId: string; clientSecret: string; redirectUri: string; keys: string[] }): Router {
  const router = new Router({ prefix: '/demo' });
  let configuration: Promise<oidc.Configuration> | undefined;
  const discover = () =>
    (configuration ??= oidc
      .discovery(new URL(options.issuer), options.clientId, options.clientSecret, undefined, {
        execute: options.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
      })
      .catch((err) => {
        configuration = undefined;
        throw err;
      }));
  const cookie = { httpOnly: true, sameSite: 'lax' as const, signed: true, path: '/demo', maxAge: 10 * 60_000 };

  router.get('/', async (ctx) => {
    renderPage(ctx, 'demo', { title: 'dev:demo.title', claims: undefined, issuer: options.issuer });
  });

  router.get('/login', async (ctx) => {
    const config = await discover();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = randomId();
    ctx.cookies.set('demo_flow', JSON.stringify({ verifier, state }), cookie);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: options.redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...(ctx.query.prompt === 'select_account' ? { prompt: 'select_account' } : {}),
    });
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const config = await discover();
    const flow = JSON.parse(ctx.cookies.get('demo_flow', { signed: true }) ?? '{}') as { verifier?: string; state?: string };
    ctx.cookies.set('demo_flow', null, cookie);
    const current = new URL(ctx.originalUrl, options.redirectUri);
    const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
    renderPage(ctx, 'demo', { title: 'dev:demo.signed_in', claims: tokens.claims(), issuer: options.issuer });
  });
  return router;
}
