/**
 * Partners of an app: trusted systems whose signed tokens sign people in (partner sign-in links, the RFC 7523 grant).
 * A shared secret is stored encrypted (AES-256-GCM, bound to app and partner) and never returned.
 */
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { AppRecord, PartnerClaimMapping, PartnerRecord, PartnerRepository, Patch } from '../storage/ports.js';
import { ASYMMETRIC_ALGS, SYMMETRIC_ALGS, type CreatePartnerInput, type UpdatePartnerInput } from './partner-schemas.js';

export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 70;
export const DEFAULT_CLOCK_SKEW_SECONDS = 5;

type KeyInput = Pick<CreatePartnerInput, 'secret' | 'jwks' | 'jwks_uri'>;
type Jwk = { kty: string; crv?: string; alg?: string };

/** `algorithms` when the operator gave none: what the key type signs with. */
function defaultAlgorithms(keys: { secret?: unknown; jwks?: { keys: Jwk[] }; jwksUri?: string }): string[] {
  if (keys.secret) return ['HS256'];
  if (keys.jwks) {
    const algs = keys.jwks.keys.map((k) => k.alg ?? (k.kty === 'RSA' ? 'RS256' : k.kty === 'OKP' ? 'EdDSA' : k.crv === 'P-384' ? 'ES384' : k.crv === 'P-521' ? 'ES512' : 'ES256'));
    return [...new Set(algs)];
  }
  return ['RS256', 'ES256'];
}

/** RFC 8725 §2.1 / §3.1: a symmetric algorithm with public keys (or the reverse) is a configuration error. */
function checkAlgorithms(algorithms: string[], symmetric: boolean): void {
  const allowed: readonly string[] = symmetric ? SYMMETRIC_ALGS : ASYMMETRIC_ALGS;
  const wrong = algorithms.filter((a) => !allowed.includes(a));
  if (wrong.length > 0) {
    throw new InvalidRequestError(`${wrong.join(', ')} cannot be used with ${symmetric ? 'a shared secret' : 'public keys'}.`, [
      { path: 'algorithms', message: symmetric ? 'a secret signs with HS256, HS384 or HS512' : 'public keys sign with RS*, PS*, ES* or EdDSA' },
    ]);
  }
}

function mappingOf(input: CreatePartnerInput['claim_mapping']): PartnerClaimMapping {
  const m = input ?? { subject: 'sub', email: 'email', name: 'name', external_ids: {} };
  return {
    subject: m.subject, email: m.email, name: m.name,
    ...(m.tenant ? { tenant: m.tenant } : {}),
    ...(m.role ? { role: { claim: m.role.claim, map: m.role.map, ...(m.role.default ? { default: m.role.default } : {}) } } : {}),
    externalIds: m.external_ids,
  };
}

export class PartnerService {
  constructor(
    private readonly partners: PartnerRepository,
    private readonly box: SecretBox,
    /** 404 unless the app has this client (the landing client must exist). */
    private readonly requireClient: (app: AppRecord, clientId: string) => Promise<unknown>,
  ) {}

  private seal(app: AppRecord, slug: string, secret: string): string {
    return this.box.seal(secret, `${app.id}:partner:${slug}`);
  }

  /** The shared secret's bytes (UTF-8 of the configured string), for HS* verification. */
  secretOf(partner: PartnerRecord): Uint8Array | undefined {
    if (!partner.secretCiphertext) return undefined;
    return new TextEncoder().encode(this.box.open(partner.secretCiphertext, `${partner.appId}:partner:${partner.slug}`));
  }

  private keysOf(app: AppRecord, slug: string, input: KeyInput): Pick<PartnerRecord, 'secretCiphertext' | 'jwks' | 'jwksUri'> {
    return {
      secretCiphertext: input.secret ? this.seal(app, slug, input.secret) : undefined,
      jwks: input.jwks,
      jwksUri: input.jwks_uri,
    };
  }

  async create(app: AppRecord, input: CreatePartnerInput): Promise<PartnerRecord> {
    if (input.landing) await this.requireClient(app, input.landing.client_id);
    const algorithms = input.algorithms ?? defaultAlgorithms({ secret: input.secret, jwks: input.jwks, jwksUri: input.jwks_uri });
    checkAlgorithms(algorithms, Boolean(input.secret));
    const now = new Date();
    const partner: PartnerRecord = {
      appId: app.id,
      slug: input.slug,
      name: input.name,
      issuer: input.issuer,
      audience: input.audience,
      ...this.keysOf(app, input.slug, input),
      algorithms,
      requiredClaims: input.required_claims ?? {},
      maxTokenAgeSeconds: input.max_token_age_seconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS,
      clockSkewSeconds: input.clock_skew_seconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
      provisioning: input.provisioning ?? 'create',
      claimMapping: mappingOf(input.claim_mapping),
      landingClientId: input.landing?.client_id,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.partners.create(stripUndefined(partner));
    } catch (err) {
      if (err instanceof ConflictError) throw new ConflictError(`A partner "${input.slug}" already exists in this app.`);
      throw err;
    }
    return stripUndefined(partner);
  }

  find(app: AppRecord, slug: string): Promise<PartnerRecord | undefined> {
    return this.partners.find(app.id, slug);
  }

  async require(app: AppRecord, slug: string): Promise<PartnerRecord> {
    const partner = await this.find(app, slug);
    if (!partner) throw new NotFoundError(`No partner "${slug}" in app "${app.slug}".`);
    return partner;
  }

  list(app: AppRecord): Promise<PartnerRecord[]> {
    return this.partners.list(app.id);
  }

  async update(app: AppRecord, slug: string, input: UpdatePartnerInput): Promise<PartnerRecord> {
    const current = await this.require(app, slug);
    if (input.landing) await this.requireClient(app, input.landing.client_id);
    const newKeys = input.secret !== undefined || input.jwks !== undefined || input.jwks_uri !== undefined;
    const keys = newKeys ? this.keysOf(app, slug, input) : {};
    const symmetric = newKeys ? Boolean(input.secret) : Boolean(current.secretCiphertext);
    const algorithms = input.algorithms
      ?? (newKeys ? defaultAlgorithms({ secret: input.secret, jwks: input.jwks, jwksUri: input.jwks_uri }) : current.algorithms);
    checkAlgorithms(algorithms, symmetric);
    const patch: Patch<PartnerRecord> = {
      name: input.name,
      issuer: input.issuer,
      audience: input.audience,
      ...keys,
      algorithms,
      requiredClaims: input.required_claims,
      maxTokenAgeSeconds: input.max_token_age_seconds,
      clockSkewSeconds: input.clock_skew_seconds,
      provisioning: input.provisioning,
      claimMapping: input.claim_mapping ? mappingOf(input.claim_mapping) : undefined,
      landingClientId: input.landing?.client_id,
    };
    // Only a new key removes the other kinds; other absent fields keep their values.
    if (!newKeys) { delete patch.secretCiphertext; delete patch.jwks; delete patch.jwksUri; }
    if (input.audience === undefined) delete patch.audience;
    if (!input.landing) delete patch.landingClientId;
    const updated = await this.partners.update(app.id, slug, patch);
    if (!updated) throw new NotFoundError(`No partner "${slug}" in app "${app.slug}".`);
    return updated;
  }

  async delete(app: AppRecord, slug: string): Promise<void> {
    if (!(await this.partners.delete(app.id, slug))) throw new NotFoundError(`No partner "${slug}" in app "${app.slug}".`);
  }
}

function stripUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

/** Admin API view of a partner: everything but the secret (write-only: `has_secret` says whether one is set). */
export function presentPartner(partner: PartnerRecord, appIssuer: string) {
  const m = partner.claimMapping;
  return {
    slug: partner.slug,
    name: partner.name,
    issuer: partner.issuer,
    audience: partner.audience ?? appIssuer,
    has_secret: Boolean(partner.secretCiphertext),
    jwks_uri: partner.jwksUri ?? null,
    jwks: partner.jwks ?? null,
    algorithms: partner.algorithms,
    required_claims: partner.requiredClaims,
    max_token_age_seconds: partner.maxTokenAgeSeconds,
    clock_skew_seconds: partner.clockSkewSeconds,
    provisioning: partner.provisioning,
    claim_mapping: {
      subject: m.subject, email: m.email ?? null, name: m.name ?? null, tenant: m.tenant ?? null, role: m.role ?? null, external_ids: m.externalIds,
    },
    landing: partner.landingClientId ? { client_id: partner.landingClientId } : null,
    /** Where the partner sends people: `?token=JWT`, or a POSTed form with `token`. */
    sign_in_url: `${appIssuer}/sso/${partner.slug}`,
    created_at: partner.createdAt.toISOString(),
    updated_at: partner.updatedAt.toISOString(),
  };
}
