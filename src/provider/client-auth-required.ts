/**
 * RFC 6749 §5.2: a request to the token endpoint without any client authentication is `invalid_client` with
 * 401, and the 401 names the scheme the client should use (`WWW-Authenticate`, RFC 7235 §4.1). oidc-provider
 * answers 400 `invalid_request` "no client authentication mechanism provided" when it cannot even find a client
 * id; this response hook turns exactly that answer into the one RFC 6749 asks for, at every endpoint that
 * authenticates clients (token, introspection, revocation).
 */
import type { ResponseHook } from './response-hooks.js';

const CLIENT_AUTH_ENDPOINTS = new Set(['/token', '/token/introspection', '/token/revocation']);
const NO_CLIENT_AUTH = 'no client authentication mechanism provided';

export function clientAuthRequired(realm: string): ResponseHook {
  return (ctx) => {
    const body = ctx.body as { error?: string; error_description?: string } | undefined;
    if (!CLIENT_AUTH_ENDPOINTS.has(ctx.path) || ctx.status !== 400 || body?.error !== 'invalid_request' || body.error_description !== NO_CLIENT_AUTH) return;
    ctx.status = 401;
    ctx.body = { error: 'invalid_client', error_description: 'client authentication is required' };
    ctx.set('WWW-Authenticate', `Basic realm="${realm}"`);
    return undefined;
  };
}
