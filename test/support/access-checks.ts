/**
 * The four ways a relying party finds out that a person's access ended (issue 11: offboarding): userinfo with the
 * access token, introspection of it, a refresh, and a `prompt=none` authorization in the person's browser.
 */
import type { Browser } from './browser.js';
import { oidc, open, REDIRECT_URI, type Rp } from './rp.js';

export interface AccessState {
  userinfo: number;
  introspectionActive: boolean;
  /** `ok` when the refresh worked, else the OAuth error code. */
  refresh: string;
  /** `code` when the browser is still signed in, else the error of the redirect (`login_required`). */
  promptNone: string;
}

export interface HeldTokens {
  access_token: string;
  refresh_token?: string;
}

export async function accessState(rp: Rp, browser: Browser, tokens: HeldTokens): Promise<AccessState> {
  const metadata = rp.config.serverMetadata();
  const userinfo = await fetch(metadata.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  await userinfo.arrayBuffer();
  const introspection = await oidc.tokenIntrospection(rp.config, tokens.access_token);
  let refresh = 'none';
  if (tokens.refresh_token) {
    refresh = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token).then(
      (rotated) => {
        tokens.refresh_token = rotated.refresh_token;
        tokens.access_token = rotated.access_token;
        return 'ok';
      },
      (error: { error?: string }) => error.error ?? String(error),
    );
  }
  const page = await open(browser, await rp.begin({ prompt: 'none' }));
  if (!page.url.startsWith(REDIRECT_URI)) throw new Error(`prompt=none did not return to the RP: ${page.status} ${page.url}`);
  const answer = new URL(page.url).searchParams;
  return {
    userinfo: userinfo.status,
    introspectionActive: introspection.active,
    refresh,
    promptNone: answer.get('code') ? 'code' : answer.get('error') ?? 'none',
  };
}

export const ENDED: AccessState = { userinfo: 401, introspectionActive: false, refresh: 'invalid_grant', promptNone: 'login_required' };
export const LIVE: AccessState = { userinfo: 200, introspectionActive: true, refresh: 'ok', promptNone: 'code' };
