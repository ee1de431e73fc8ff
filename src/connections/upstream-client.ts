/**
 * The relying-party side of a connection, with openid-client: discovery (cached), the authorization request
 * (code + PKCE S256 + state + nonce, OIDC Core §3.1.2.1, RFC 7636) and the code exchange, whose ID token
 * openid-client validates (`iss`, `aud`, `exp`, `nonce`, OIDC Core §3.1.3.7; and its signature against the
 * upstream's JWKS, which openid-client checks only when asked: `enableNonRepudiationChecks`).
 * Entra ID's `{tenantid}` issuer is checked against the token's `tid` (entra-issuer.ts).
 */
import * as client from 'openid-client';
import { importJWK } from 'jose';
import type { ConnectionRecord } from '../storage/ports.js';
import type { ConnectionSecrets } from './connection-service.js';
import { entraIssuerProblem, isIssuerTemplate } from './entra-issuer.js';

/** Why talking to the upstream failed; people see one page per kind, the audit log the reason. */
export type UpstreamProblemKind = 'unreachable' | 'denied' | 'error' | 'invalid';

export class UpstreamProblem extends Error {
  constructor(readonly kind: UpstreamProblemKind, readonly reason: string) {
    super(`upstream ${kind}: ${reason}`);
  }
}

export interface UpstreamClientOptions {
  secretsOf: (connection: ConnectionRecord) => ConnectionSecrets;
  /** How long discovered metadata is reused. */
  cacheSeconds?: number;
  /** Time limit of each request to the upstream. */
  timeoutSeconds?: number;
  /** The fetch used for every request to upstreams (tests route Entra's well-known host to a local IdP). */
  fetch?: typeof fetch;
}

export interface AuthorizationChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface UpstreamSignIn {
  /** The validated ID token's claims. */
  claims: Record<string, unknown>;
  tokens: { access_token?: string; refresh_token?: string; id_token?: string; expires_at?: number };
}

const isLoopbackHttp = (url: URL) => url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

export class UpstreamClients {
  private readonly cache = new Map<string, { config: client.Configuration; until: number }>();

  constructor(private readonly options: UpstreamClientOptions) {}

  /** The cache key changes with every change of the connection. */
  private keyOf(c: ConnectionRecord): string {
    return `${c.appId}\u0000${c.slug}\u0000${c.updatedAt.getTime()}`;
  }

  private async authOf(c: ConnectionRecord): Promise<client.ClientAuth> {
    let secrets: ConnectionSecrets;
    try {
      secrets = this.options.secretsOf(c);
    } catch {
      // Sealed under another SECRETS_KEY (a process started without the shared key): unavailable, not a crash.
      throw new UpstreamProblem('unreachable', 'credentials_unreadable');
    }
    switch (c.tokenEndpointAuthMethod) {
      case 'client_secret_basic': return client.ClientSecretBasic(secrets.clientSecret ?? '');
      case 'client_secret_post': return client.ClientSecretPost(secrets.clientSecret ?? '');
      case 'private_key_jwt': {
        const jwk = secrets.privateKey ?? {};
        const alg = typeof jwk.alg === 'string' ? jwk.alg : jwk.kty === 'RSA' ? 'RS256' : jwk.crv === 'P-384' ? 'ES384' : 'ES256';
        const key = await importJWK(jwk, alg) as client.CryptoKey;
        return client.PrivateKeyJwt({ key, kid: typeof jwk.kid === 'string' ? jwk.kid : undefined });
      }
      case 'none': return client.None();
    }
  }

  /** Discovery (OpenID Connect Discovery 1.0 §4), cached per connection version. */
  async configuration(c: ConnectionRecord): Promise<client.Configuration> {
    const key = this.keyOf(c);
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.config;
    const server = new URL(c.issuer);
    const options: client.DiscoveryRequestOptions = {
      timeout: this.options.timeoutSeconds ?? 10,
      ...(isLoopbackHttp(server) ? { execute: [client.allowInsecureRequests] } : {}),
      ...(this.options.fetch ? { [client.customFetch]: this.options.fetch } : {}),
    };
    const auth = await this.authOf(c);
    let config: client.Configuration;
    try {
      config = await client.discovery(server, c.clientId, undefined, auth, options);
    } catch (err) {
      throw asProblem(err, 'discovery');
    }
    // OIDC Core §3.1.3.7 lets a client skip the ID token's signature when it came over TLS from the token endpoint;
    // openid-client then does not check it. Portcullis always checks it against the upstream's JWKS: the connection
    // may be http on loopback, and a verified signature is what the audit trail can stand on.
    client.enableNonRepudiationChecks(config);
    for (const [k, v] of this.cache) if (v.until <= Date.now() || k.startsWith(`${c.appId}\u0000${c.slug}\u0000`)) this.cache.delete(k);
    this.cache.set(key, { config, until: Date.now() + (this.options.cacheSeconds ?? 600) * 1000 });
    return config;
  }

  /** The cached authorization endpoint's origin, for the sign-in page's CSP form-action (undefined before discovery). */
  cachedAuthorizationOrigin(c: ConnectionRecord): string | undefined {
    const endpoint = this.cache.get(this.keyOf(c))?.config.serverMetadata().authorization_endpoint;
    return endpoint ? new URL(endpoint).origin : undefined;
  }

  async authorizationUrl(c: ConnectionRecord, redirectUri: string, checks: AuthorizationChecks, loginHint?: string): Promise<URL> {
    const config = await this.configuration(c);
    return client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: c.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      ...(loginHint ? { login_hint: loginHint } : {}),
    });
  }

  /**
   * The callback: `callback` is the redirect URI with the parameters the upstream sent. Throws
   * {@link UpstreamProblem} for an error answer (RFC 6749 §4.1.2.1), a refused exchange or an invalid ID token.
   */
  async exchange(c: ConnectionRecord, callback: URL, checks: AuthorizationChecks): Promise<UpstreamSignIn> {
    const config = await this.configuration(c);
    let response: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      response = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true,
      });
    } catch (err) {
      throw asProblem(err, 'token');
    }
    const claims = { ...(response.claims() ?? {}) } as Record<string, unknown>;
    const issuer = config.serverMetadata().issuer;
    if (isIssuerTemplate(issuer)) {
      const problem = entraIssuerProblem(issuer, claims, c.allowedTenantIds);
      if (problem) throw new UpstreamProblem('invalid', problem);
    }
    const expiresIn = response.expiresIn();
    return {
      claims,
      tokens: {
        access_token: response.access_token, refresh_token: response.refresh_token, id_token: response.id_token,
        ...(expiresIn !== undefined ? { expires_at: Math.floor(Date.now() / 1000) + expiresIn } : {}),
      },
    };
  }
}

/** openid-client's errors, as the kinds people see. */
export function asProblem(err: unknown, step: 'discovery' | 'token'): UpstreamProblem {
  if (err instanceof UpstreamProblem) return err;
  if (err instanceof client.AuthorizationResponseError) {
    return new UpstreamProblem(err.error === 'access_denied' ? 'denied' : 'error', `authorization_${err.error}`.slice(0, 100));
  }
  if (err instanceof client.ResponseBodyError) {
    return new UpstreamProblem(err.status >= 500 ? 'unreachable' : 'invalid', `${step}_${err.error}`.slice(0, 100));
  }
  const e = err as { code?: string; cause?: unknown; message?: string };
  const network = e.code === 'OAUTH_TIMEOUT' || e.code === 'OAUTH_ABORT' || e.cause instanceof TypeError
    || (e.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && (e.cause as { status?: number } | undefined)?.status !== undefined && (e.cause as { status: number }).status >= 500);
  if (network || step === 'discovery') return new UpstreamProblem('unreachable', `${step}_${e.code ?? 'failed'}`.toLowerCase().slice(0, 100));
  return new UpstreamProblem('invalid', `${step}_${e.code ?? 'invalid'}`.toLowerCase().slice(0, 100));
}
