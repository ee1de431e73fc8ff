/**
 * A real relying party on ANOTHER ORIGIN than Portcullis, for the real-browser suite: a small HTTP server using
 * openid-client v6 the way a portal's backend does. Portcullis is reached at `http://127.0.0.1:<port>` (its
 * PUBLIC_URL in tests); this RP answers at `http://localhost:<other port>`: another host and port, so another
 * origin AND another site. That is what makes CSP `form-action`, cookies' SameSite and cross-origin redirects behave
 * as they do for a real portal.
 *
 *   GET /login       new RP session (PKCE S256 verifier, state, nonce in memory; cookie `rp_session`), 302 to the
 *                    authorization endpoint. Query parameters (e.g. `tenant`, `prompt`) are passed on.
 *   GET /callback    exchanges the code (state, nonce, PKCE and `iss` checked by openid-client), shows the ID
 *                    token's claims as HTML (`<td data-claim="…">`), with a "Sign out" link; an error answer
 *                    (e.g. access_denied) is shown as `<p id="error">`.
 *   GET /logout      302 to end_session with `id_token_hint`, `post_logout_redirect_uri` (/logged-out) and state
 *                    (OIDC RP-Initiated Logout 1.0 §2).
 *   GET /logged-out  checks the state came back, ends the RP session, says "Signed out of the portal".
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { TestServer } from './server.js';

export interface AnotherOriginRp {
  /** `http://localhost:<port>`. */
  url: string;
  clientId: string;
  close(): Promise<void>;
}

interface RpSession {
  verifier: string;
  state: string;
  nonce: string;
  idToken?: string;
  logoutState?: string;
}

/**
 * Registers a client for the RP in `slug` (created if missing) through the Admin API, and starts the RP.
 * `client` overrides the client's metadata (e.g. `first_party: false` to be asked for consent).
 */
export async function startAnotherOriginRp(portcullis: TestServer, slug: string, client: Record<string, unknown> = {}): Promise<AnotherOriginRp> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;

  const existing = await portcullis.admin.call('GET', `/apps/${slug}`);
  if (existing.status === 404) await portcullis.admin.ok('POST', '/apps', { slug, name: `App ${slug}` });
  const created = await portcullis.admin.ok('POST', `/apps/${slug}/clients`, {
    name: 'Northwind Portal',
    redirect_uris: [`${url}/callback`],
    post_logout_redirect_uris: [`${url}/logged-out`],
    first_party: true,
    ...client,
  });
  const config = await oidc.discovery(new URL(`${portcullis.url}/apps/${slug}`), created.client_id, created.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });

  const sessions = new Map<string, RpSession>();
  server.on('request', (req, res) => {
    handle(req, res).catch((error: unknown) => page(res, 500, 'RP error', `<p id="error">${escape(String(error))}</p>`));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const current = new URL(req.url ?? '/', url);
    const sid = /(?:^|;\s*)rp_session=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
    const session = sid ? sessions.get(sid) : undefined;
    switch (current.pathname) {
      case '/login': return login(res, current);
      case '/callback': return callback(res, current, session);
      case '/logout': return logout(res, session);
      case '/logged-out': return loggedOut(res, current, sid, session);
      case '/favicon.ico': res.writeHead(204).end(); return;
      default: page(res, 404, 'Not found', '<p>Not found</p>');
    }
  }

  async function login(res: ServerResponse, current: URL): Promise<void> {
    const session: RpSession = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    const sid = randomBytes(16).toString('base64url');
    sessions.set(sid, session);
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${url}/callback`,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(session.verifier),
      code_challenge_method: 'S256',
      state: session.state,
      nonce: session.nonce,
      ...Object.fromEntries(current.searchParams),
    });
    // SameSite=Lax: the RP's cookie must come back on the top-level redirect from Portcullis (another site).
    res.writeHead(302, { location: authorize.href, 'set-cookie': `rp_session=${sid}; Path=/; HttpOnly; SameSite=Lax` }).end();
  }

  async function callback(res: ServerResponse, current: URL, session: RpSession | undefined): Promise<void> {
    if (!session) return page(res, 400, 'No RP session', '<p id="error">The RP session cookie did not come back.</p>');
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: session.verifier,
        expectedState: session.state,
        expectedNonce: session.nonce,
      });
    } catch (error) {
      // An error answer from the authorization endpoint (RFC 6749 §4.1.2.1), with the state checked: the RP shows it.
      if (!(error instanceof oidc.AuthorizationResponseError)) throw error;
      return page(res, 200, 'Sign-in not completed', `<p id="error">${escape(error.error)}</p>`);
    }
    session.idToken = tokens.id_token;
    const claims = tokens.claims() ?? {};
    const rows = Object.entries(claims)
      .map(([name, value]) => `<tr><th>${escape(name)}</th><td data-claim="${escape(name)}">${escape(typeof value === 'string' ? value : JSON.stringify(value))}</td></tr>`)
      .join('');
    page(res, 200, 'Signed in to the portal', `<table id="claims">${rows}</table><p><a id="sign-out" href="/logout">Sign out</a></p>`);
  }

  function logout(res: ServerResponse, session: RpSession | undefined): void {
    if (!session?.idToken) return page(res, 400, 'Not signed in', '<p id="error">Not signed in at the RP.</p>');
    session.logoutState = oidc.randomState();
    const endSession = oidc.buildEndSessionUrl(config, {
      id_token_hint: session.idToken,
      post_logout_redirect_uri: `${url}/logged-out`,
      state: session.logoutState,
    });
    res.writeHead(302, { location: endSession.href }).end();
  }

  function loggedOut(res: ServerResponse, current: URL, sid: string | undefined, session: RpSession | undefined): void {
    const stateOk = !!session?.logoutState && current.searchParams.get('state') === session.logoutState;
    if (sid) sessions.delete(sid);
    page(res, 200, 'Signed out of the portal', `<p id="state">${stateOk ? 'state matches' : 'state missing or wrong'}</p>`);
  }

  return {
    url,
    clientId: created.client_id,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
