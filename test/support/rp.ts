/** A relying party built with openid-client, as portal developers use it, plus helpers to drive sign-in. */
import * as oidc from 'openid-client';
import { Browser, choices, type Page } from './browser.js';
import type { TestServer } from './server.js';

export const REDIRECT_URI = 'https://rp.example.test/callback';

export interface Rp {
  config: oidc.Configuration;
  clientId: string;
  clientSecret?: string;
  issuer: string;
  begin(params?: Record<string, string>): Promise<Flow>;
  finish(flow: Flow, callbackUrl: string): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>;
}

export interface Flow {
  url: string;
  verifier: string;
  state: string;
}

/** Creates an app (if missing) and a client in it; returns the openid-client configuration from discovery. */
export async function setUpRp(server: TestServer, slug: string, client: Record<string, unknown> = {}): Promise<Rp> {
  const existing = await server.admin.call('GET', `/apps/${slug}`);
  if (existing.status === 404) await server.admin.ok('POST', '/apps', { slug, name: `App ${slug}` });
  const created = await server.admin.ok('POST', `/apps/${slug}/clients`, { name: 'Portal', redirect_uris: [REDIRECT_URI], first_party: true, ...client });
  return rpFor(server, slug, created.client_id, created.client_secret);
}

export async function rpFor(server: TestServer, slug: string, clientId: string, clientSecret?: string): Promise<Rp> {
  const issuer = `${server.url}/apps/${slug}`;
  const config = await oidc.discovery(
    new URL(issuer),
    clientId,
    clientSecret,
    clientSecret ? undefined : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
  return {
    config,
    clientId,
    clientSecret,
    issuer,
    async begin(params = {}) {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        ...params,
      });
      return { url: url.href, verifier, state };
    },
    async finish(flow, callbackUrl) {
      return oidc.authorizationCodeGrant(config, new URL(callbackUrl), { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
    },
  };
}

/** Opens the authorization URL and follows it to the first page (or straight back to the RP). */
export async function open(browser: Browser, flow: Flow): Promise<Page> {
  return browser.follow(flow.url, REDIRECT_URI);
}

/**
 * The whole password sign-in through the HTML forms: authorize → sign-in page → (choices) → code → tokens.
 * `pick` names the option to press on each selection page, by visible text.
 */
export async function signIn(rp: Rp, browser: Browser, email: string, password: string, options: { params?: Record<string, string>; pick?: string[] } = {}) {
  const flow = await rp.begin(options.params);
  let page = await open(browser, flow);
  if (!page.url.startsWith(REDIRECT_URI)) {
    if (page.html.includes('name="password"')) page = await browser.submit(page, { identifier: email, password }, { action: '/login', stopAt: REDIRECT_URI });
    for (const label of options.pick ?? []) page = await choose(browser, page, label);
  }
  if (!page.url.startsWith(REDIRECT_URI)) throw new Error(`sign-in did not return to the RP: ${page.status} ${page.url}\n${page.html.slice(0, 1500)}`);
  return { tokens: await rp.finish(flow, page.url), flow, callback: page.url };
}

export async function choose(browser: Browser, page: Page, label: string): Promise<Page> {
  const option = choices(page).find((c) => c.label === label);
  if (!option) throw new Error(`no choice "${label}" on ${page.url}: ${JSON.stringify(choices(page))}`);
  return browser.submit(page, {}, { action: '/select', button: { name: 'choice', value: option.value }, stopAt: REDIRECT_URI });
}

export { oidc };
