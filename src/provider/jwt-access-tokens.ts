/**
 * JWT access tokens (RFC 9068) are not stored by oidc-provider, so its introspection and revocation endpoints know
 * nothing of them. This module closes that gap, so that revocation reaches APIs that introspect:
 * - when a JWT access token is minted, its `jti` is remembered (short-lived store, until the token expires) with the
 *   grant it came from: one write, on the `resource=` path only;
 * - introspection (RFC 7662 §2.2) of a JWT answers `active: true` only while the signature, issuer and expiry hold,
 *   the token was not revoked, its grant still exists and its account may still be used (not deactivated, no
 *   password reset since the sign-in);
 * - revocation (RFC 7009 §2.1) of a JWT by the client it was issued to forgets the `jti`: introspection then answers
 *   `active: false`. (An API that validates the JWT locally accepts it until `exp`: hence the short default TTL.)
 */
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { AppRecord, EphemeralStore } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import type { ResponseHook } from './response-hooks.js';

interface Remembered {
  clientId: string;
  grantId?: string;
}

type FindAccount = (ctx: KoaContextWithOIDC, sub: string, token: { authTime?: number; iat?: number }) => Promise<unknown>;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Members of a private JWK that a verifier never needs (RFC 7518 §6.2.2, §6.3.2). */
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

export class JwtAccessTokens {
  private readonly keySet: ReturnType<typeof createLocalJWKSet>;

  constructor(
    private readonly app: AppRecord,
    private readonly ephemeral: EphemeralStore,
    privateJwks: Array<Record<string, unknown>>,
    private readonly findAccount: FindAccount,
  ) {
    const keys = privateJwks.map((jwk) => Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.has(k))));
    this.keySet = createLocalJWKSet({ keys: keys as never });
  }

  private key(jti: string): string {
    return shortLivedKey(this.app.id, 'jwt-at', jti);
  }

  /** Called while the token is minted (the JWT customizer), before the client receives it. */
  async remember(payload: { jti?: string; exp?: number; client_id?: string }, grantId: string | undefined): Promise<void> {
    if (!payload.jti || !payload.exp || !payload.client_id) return;
    const ttl = Math.max(1, payload.exp - Math.floor(Date.now() / 1000));
    await this.ephemeral.set(this.key(payload.jti), { clientId: payload.client_id, ...(grantId ? { grantId } : {}) } satisfies Remembered, ttl);
  }

  /** Response hook: answers introspection and revocation for the JWT access tokens the library left alone. */
  answerForJwts(provider: Provider): ResponseHook {
    return (ctx) => {
      const route = ctx.oidc?.route;
      if (route !== 'introspection' && route !== 'revocation') return undefined;
      const token = ctx.oidc.params?.token;
      const client = ctx.oidc.client;
      // The library refuses JWTs with `unsupported_token_type` once the client has authenticated; only that answer
      // is replaced (a failed client authentication stays what it was).
      const refusedJwt = (ctx.body as { error?: string } | undefined)?.error === 'unsupported_token_type';
      if (typeof token !== 'string' || !JWT_SHAPE.test(token) || !client || !refusedJwt) return undefined;
      return this.answer(ctx, provider, route, token, client.clientId, client.clientAuthMethod === 'none');
    };
  }

  private async answer(ctx: KoaContextWithOIDC, provider: Provider, route: 'introspection' | 'revocation', token: string, callerId: string, publicCaller: boolean): Promise<void> {
    ctx.status = 200;
    if (route === 'introspection') {
      ctx.body = await this.introspect(ctx, provider, token, callerId, publicCaller);
    } else {
      await this.revoke(provider, token, callerId);
      ctx.body = '';
    }
  }

  private async verified(provider: Provider, token: string): Promise<JWTPayload | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.keySet, { issuer: provider.issuer, typ: 'at+jwt' });
      return payload;
    } catch {
      return undefined;
    }
  }

  private async introspect(ctx: KoaContextWithOIDC, provider: Provider, token: string, callerId: string, publicCaller: boolean) {
    const inactive = { active: false };
    const payload = await this.verified(provider, token);
    if (!payload?.jti) return inactive;
    // The library's default policy: a public client may introspect only its own tokens.
    if (publicCaller && payload.client_id !== callerId) return inactive;
    const remembered = await this.ephemeral.get<Remembered>(this.key(payload.jti));
    if (!remembered || remembered.clientId !== payload.client_id) return inactive;
    if (remembered.grantId) {
      const grant = await provider.Grant.find(remembered.grantId);
      if (!grant || grant.clientId !== remembered.clientId || grant.accountId !== payload.sub) return inactive;
      const authTime = typeof payload.auth_time === 'number' ? payload.auth_time : undefined;
      if (!(await this.findAccount(ctx, grant.accountId!, { authTime, iat: payload.iat }))) return inactive;
    }
    const cnf = payload.cnf as { jkt?: string } | undefined;
    return { ...payload, active: true, token_type: cnf?.jkt ? 'DPoP' : 'Bearer' };
  }

  private async revoke(provider: Provider, token: string, callerId: string) {
    const payload = await this.verified(provider, token);
    // RFC 7009 §2.1: only the client the token was issued to may revoke it; anyone else is answered 200 all the same.
    if (payload?.jti && payload.client_id === callerId) await this.ephemeral.delete(this.key(payload.jti));
  }
}
