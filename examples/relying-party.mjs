// A complete relying party for the README walkthrough: one file, Node.js 22+ and openid-client, nothing else.
//
//   CLIENT_ID=… CLIENT_SECRET=… node examples/relying-party.mjs
//
// then open http://localhost:8080. It signs in with the authorization code flow and PKCE (RFC 9700 §2.1.1), shows
// the ID token's claims (tenant and roles included) and signs out through the identity provider (OpenID Connect
// RP-Initiated Logout 1.0). Sessions are kept in memory, so restarting it signs everyone out.
//
// Settings (environment): CLIENT_ID, CLIENT_SECRET (required: from the Admin API), ISSUER (default
// http://localhost:3000/apps/clients), PORT (default 8080). The client must be registered with the redirect URI
// http://localhost:PORT/callback and the post-logout redirect URI http://localhost:PORT/.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';

const { CLIENT_ID, CLIENT_SECRET } = process.env;
const ISSUER = process.env.ISSUER ?? 'http://localhost:3000/apps/clients';
const PORT = Number(process.env.PORT ?? 8080);
const BASE = `http://localhost:${PORT}`;
const REDIRECT_URI = `${BASE}/callback`;
const POST_LOGOUT_REDIRECT_URI = `${BASE}/`;

if (!CLIENT_ID || !CLIENT_SECRET) {
  console.error('Set CLIENT_ID and CLIENT_SECRET (the client_id and client_secret the Admin API returned).');
  process.exit(1);
}

// Discovery: endpoints and keys from ${ISSUER}/.well-known/openid-configuration. allowInsecureRequests is only for
// an http:// issuer in development; an https:// issuer never needs it.
const config = await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined,
  ISSUER.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : undefined);

/** Browser sessions by cookie value: { flow?: { verifier, state }, claims?, idToken? }. */
const sessions = new Map();

function sessionOf(req, res) {
  const sid = /(?:^|;\s*)rp_session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1];
  if (sid && sessions.has(sid)) return sessions.get(sid);
  const id = randomBytes(24).toString('base64url');
  const session = {};
  sessions.set(id, session);
  res.setHeader('Set-Cookie', `rp_session=${id}; Path=/; HttpOnly; SameSite=Lax`);
  return session;
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, body) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><meta charset="utf-8"><title>Portal</title>${body}`);
}

function redirect(res, location) {
  res.writeHead(302, { location });
  res.end();
}

async function home(session, res) {
  if (!session.claims) return page(res, '<h1>Not signed in</h1><p><a href="/login">Sign in</a></p>');
  page(res, `<h1>Signed in as ${escape(session.claims.email ?? session.claims.sub)}</h1>
<p>Tenant: ${escape(session.claims.tenant_slug ?? '(none)')}, roles: ${escape((session.claims.roles ?? []).join(', '))}</p>
<pre>${escape(JSON.stringify(session.claims, null, 2))}</pre>
<p><a href="/logout">Sign out</a></p>`);
}

/** Starts a sign-in: a fresh PKCE verifier and state for this browser, then off to the identity provider. */
async function login(session, res) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  session.flow = { verifier, state };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  redirect(res, url.href);
}

/** The identity provider sent the browser back with a code: exchange it (checking state and PKCE) for tokens. */
async function callback(session, req, res) {
  const flow = session.flow;
  delete session.flow; // single use
  if (!flow) return redirect(res, '/');
  const tokens = await client.authorizationCodeGrant(config, new URL(req.url, BASE), {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
  });
  session.claims = tokens.claims();
  session.idToken = tokens.id_token;
  redirect(res, '/');
}

/** Ends the local session, then the identity provider's, which sends the browser back to POST_LOGOUT_REDIRECT_URI. */
function logout(session, res) {
  const idToken = session.idToken;
  delete session.claims;
  delete session.idToken;
  if (!idToken) return redirect(res, '/');
  redirect(res, client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI }).href);
}

const server = createServer(async (req, res) => {
  const { pathname } = new URL(req.url, BASE);
  const session = sessionOf(req, res);
  try {
    if (req.method !== 'GET') {
      res.writeHead(405);
      return res.end();
    }
    if (pathname === '/') return await home(session, res);
    if (pathname === '/login') return await login(session, res);
    if (pathname === '/callback') return await callback(session, req, res);
    if (pathname === '/logout') return logout(session, res);
    res.writeHead(404);
    res.end('Not found');
  } catch (err) {
    console.error(err);
    if (res.headersSent) return res.end();
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`Sign-in failed: ${err.message}`);
  }
});

server.listen(PORT, '127.0.0.1', () => console.log(`Relying party on ${BASE} (issuer ${ISSUER})`));
