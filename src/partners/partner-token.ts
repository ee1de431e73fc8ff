/**
 * Validation of a partner's signed token (RFC 7519, RFC 8725 best current practice, RFC 7523 §3 for the grant):
 * the algorithm is one the partner is configured for (never `none`, never a symmetric algorithm with public keys),
 * then the signature, `iss`, `aud`, `exp` and `nbf` (with the partner's clock skew), `iat` (required, not in the future
 * beyond the skew, not older than `max_token_age_seconds`), the required claims and a `jti`.
 *
 * Every failure is a {@link PartnerTokenProblem} with a precise `reason` for the audit and server logs; people only
 * ever see one of three messages (`partner-errors.ts`).
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { PartnerRecord } from '../storage/ports.js';

/** What went wrong, in the words support teams use: expired, already used, or not valid. */
export type PartnerProblemKind = 'expired' | 'invalid' | 'used' | 'keys_unavailable';

export class PartnerTokenProblem extends Error {
  constructor(readonly kind: PartnerProblemKind, readonly reason: string, readonly jti?: string) {
    super(reason);
  }
}

/** A compact JWS is three base64url parts; anything longer than this is not a sign-in token. */
const MAX_TOKEN_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** How long one JWKS fetch may take (a hung partner must not hang the sign-in). */
const JWKS_TIMEOUT_MS = 5000;
/** How long fetched keys are used before they are fetched again anyway. */
const JWKS_MAX_AGE_MS = 10 * 60 * 1000;

/**
 * Verification keys per partner. Remote key sets are cached per (app, partner, jwks_uri) and refetched on an unknown
 * `kid` at most once per cooldown (jose's `createRemoteJWKSet`), so a partner's key rotation is picked up without
 * letting arbitrary `kid`s make us hammer its server.
 */
export class PartnerKeys {
  private readonly remote = new Map<string, JWTVerifyGetKey>();

  constructor(private readonly secretOf: (partner: PartnerRecord) => Uint8Array | undefined, private readonly cooldownSeconds: number) {}

  keyFor(partner: PartnerRecord): Uint8Array | JWTVerifyGetKey {
    const secret = this.secretOf(partner);
    if (secret) return secret;
    if (partner.jwks) return createLocalJWKSet(partner.jwks as never);
    if (!partner.jwksUri) throw new PartnerTokenProblem('invalid', 'partner_has_no_keys');
    const cacheKey = `${partner.appId}\u0000${partner.slug}\u0000${partner.jwksUri}`;
    let set = this.remote.get(cacheKey);
    if (!set) {
      set = createRemoteJWKSet(new URL(partner.jwksUri), {
        timeoutDuration: JWKS_TIMEOUT_MS, cooldownDuration: this.cooldownSeconds * 1000, cacheMaxAge: JWKS_MAX_AGE_MS,
      });
      this.remote.set(cacheKey, set);
    }
    return set;
  }
}

export interface VerifiedToken {
  claims: JWTPayload & Record<string, unknown>;
  jti: string;
  /** Seconds since the epoch when the token stops being valid (how long its jti is remembered). */
  exp: number;
}

/** Verifies `token` for `partner`; `audience` is the partner's, else the app's issuer. */
export async function verifyPartnerToken(token: string, partner: PartnerRecord, keys: PartnerKeys, audience: string | string[], now = Date.now()): Promise<VerifiedToken> {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw new PartnerTokenProblem('invalid', 'malformed_token');
  const skew = partner.clockSkewSeconds;
  let payload: JWTPayload;
  try {
    const key = keys.keyFor(partner);
    const result = typeof key === 'function'
      ? await jwtVerify(token, key, verifyOptions(partner, audience, now))
      : await jwtVerify(token, key, verifyOptions(partner, audience, now));
    payload = result.payload;
  } catch (error) {
    throw classify(error);
  }
  const nowSeconds = Math.floor(now / 1000);
  const iat = payload.iat!;
  // RFC 7519 §4.1.6: a token issued in the future (beyond the skew) is refused; one issued longer ago than the
  // partner's maximum age is expired even if its own `exp` is later. The skew applies to the future only.
  if (iat > nowSeconds + skew) throw new PartnerTokenProblem('invalid', 'iat_in_the_future', stringJti(payload));
  if (nowSeconds - iat > partner.maxTokenAgeSeconds) throw new PartnerTokenProblem('expired', 'token_too_old', stringJti(payload));
  const jti = stringJti(payload);
  if (!jti) throw new PartnerTokenProblem('invalid', 'missing_jti');
  for (const [name, expected] of Object.entries(partner.requiredClaims)) {
    if ((payload as Record<string, unknown>)[name] !== expected) throw new PartnerTokenProblem('invalid', `required_claim_mismatch:${name}`, jti);
  }
  return { claims: payload as VerifiedToken['claims'], jti, exp: payload.exp! };
}

function verifyOptions(partner: PartnerRecord, audience: string | string[], now: number) {
  return {
    // RFC 8725 §3.1: the algorithms are pinned by configuration, never taken from the token's header.
    algorithms: partner.algorithms,
    issuer: partner.issuer,
    audience,
    clockTolerance: partner.clockSkewSeconds,
    currentDate: new Date(now),
    requiredClaims: ['exp', 'iat'],
  };
}

function stringJti(payload: JWTPayload): string | undefined {
  return typeof payload.jti === 'string' && payload.jti.length > 0 && payload.jti.length <= 256 ? payload.jti : undefined;
}

/** jose's errors, reduced to what the person sees (kind) and what the audit says (reason). */
function classify(error: unknown): PartnerTokenProblem {
  if (error instanceof PartnerTokenProblem) return error;
  if (error instanceof errors.JWTExpired) return new PartnerTokenProblem('expired', `expired:${error.claim}`);
  if (error instanceof errors.JWTClaimValidationFailed) return new PartnerTokenProblem('invalid', `claim_invalid:${error.claim}:${error.reason}`);
  if (error instanceof errors.JOSEAlgNotAllowed) return new PartnerTokenProblem('invalid', 'algorithm_not_allowed');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new PartnerTokenProblem('invalid', 'bad_signature');
  if (error instanceof errors.JWKSNoMatchingKey) return new PartnerTokenProblem('invalid', 'unknown_key');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return new PartnerTokenProblem('invalid', 'ambiguous_key');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported || error instanceof errors.JWKInvalid) {
    return new PartnerTokenProblem('invalid', `malformed_token:${(error as Error).message}`.slice(0, 200));
  }
  // The partner's key server timed out, answered garbage or could not be reached: a broken dependency.
  return new PartnerTokenProblem('keys_unavailable', `jwks_unavailable:${(error as Error)?.message ?? 'error'}`.slice(0, 200));
}
