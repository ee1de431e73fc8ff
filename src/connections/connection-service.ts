/**
 * Upstream connections of an app (Admin API): an identity provider the app is a relying party of. The client secret
 * or private key is write-only, stored AES-256-GCM encrypted and bound to app and connection.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { AppRecord, ConnectionClaimMapping, ConnectionRecord, ConnectionRepository, Patch } from '../storage/ports.js';
import type { CreateConnectionInput, UpdateConnectionInput } from './connection-schemas.js';
import { PRESETS } from './presets.js';

type MappingInput = CreateConnectionInput['claim_mapping'];

function mappingOf(base: ConnectionClaimMapping, input: MappingInput): ConnectionClaimMapping {
  if (!input) return base;
  return {
    subject: input.subject ?? base.subject,
    email: input.email ?? base.email,
    emailVerified: input.email_verified ?? base.emailVerified,
    name: input.name ?? base.name,
    ...(input.phone ?? base.phone ? { phone: input.phone ?? base.phone } : {}),
    ...(input.tenant ? { tenant: input.tenant } : base.tenant ? { tenant: base.tenant } : {}),
    ...(input.role ? { role: { claim: input.role.claim, map: input.role.map, ...(input.role.default ? { default: input.role.default } : {}) } } : base.role ? { role: base.role } : {}),
  };
}

const stripUndefined = <T extends object>(record: T): T => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;

/** What a connection's secrets open to, for the relying-party side (upstream-client.ts). */
export interface ConnectionSecrets {
  clientSecret?: string;
  privateKey?: Record<string, unknown>;
}

export class ConnectionService {
  constructor(private readonly connections: ConnectionRepository, private readonly box: SecretBox) {}

  private seal(appId: string, slug: string, what: 'secret' | 'key', value: string): string {
    return this.box.seal(value, `${appId}:connection:${slug}:${what}`);
  }

  secretsOf(connection: ConnectionRecord): ConnectionSecrets {
    const ad = (what: string) => `${connection.appId}:connection:${connection.slug}:${what}`;
    return {
      clientSecret: connection.secretCiphertext ? this.box.open(connection.secretCiphertext, ad('secret')) : undefined,
      privateKey: connection.privateKeyCiphertext ? JSON.parse(this.box.open(connection.privateKeyCiphertext, ad('key'))) as Record<string, unknown> : undefined,
    };
  }

  async create(app: AppRecord, input: CreateConnectionInput): Promise<ConnectionRecord> {
    const preset = PRESETS[input.preset];
    const now = new Date();
    const connection: ConnectionRecord = stripUndefined({
      appId: app.id,
      slug: input.slug,
      type: 'oidc',
      preset: input.preset,
      displayName: input.display_name ?? preset.displayName,
      issuer: input.issuer ?? preset.issuer!,
      clientId: input.client_id,
      secretCiphertext: input.client_secret ? this.seal(app.id, input.slug, 'secret', input.client_secret) : undefined,
      privateKeyCiphertext: input.private_key_jwk ? this.seal(app.id, input.slug, 'key', JSON.stringify(input.private_key_jwk)) : undefined,
      tokenEndpointAuthMethod: input.token_endpoint_auth_method ?? (input.private_key_jwk ? 'private_key_jwt' : input.client_secret ? 'client_secret_basic' : 'none'),
      scopes: input.scopes ?? preset.scopes,
      claimMapping: mappingOf(preset.claimMapping, input.claim_mapping),
      allowedTenantIds: input.allowed_tenant_ids ?? undefined,
      provisioning: input.provisioning ?? 'create',
      linkByVerifiedEmail: input.link_by_verified_email ?? false,
      storeTokens: input.store_tokens ?? false,
      enabled: input.enabled ?? true,
      position: input.position ?? undefined,
      createdAt: now,
      updatedAt: now,
    });
    checkCredentials(connection);
    try {
      await this.connections.create(connection);
    } catch (err) {
      if (err instanceof ConflictError) throw new ConflictError(`A connection "${input.slug}" already exists in this app.`);
      throw err;
    }
    return connection;
  }

  find(app: AppRecord, slug: string): Promise<ConnectionRecord | undefined> {
    return /^[a-z0-9-]{1,63}$/.test(slug) ? this.connections.find(app.id, slug) : Promise.resolve(undefined);
  }

  async require(app: AppRecord, slug: string): Promise<ConnectionRecord> {
    const found = await this.find(app, slug);
    if (!found) throw new NotFoundError(`No connection "${slug}" in app "${app.slug}".`);
    return found;
  }

  list(app: AppRecord): Promise<ConnectionRecord[]> {
    return this.connections.list(app.id);
  }

  /** The enabled connections, in button order. */
  async enabled(app: AppRecord): Promise<ConnectionRecord[]> {
    return (await this.list(app)).filter((c) => c.enabled);
  }

  async update(app: AppRecord, slug: string, input: UpdateConnectionInput): Promise<ConnectionRecord> {
    const current = await this.require(app, slug);
    const patch: Patch<ConnectionRecord> = stripUndefined({
      displayName: input.display_name,
      issuer: input.issuer,
      clientId: input.client_id,
      tokenEndpointAuthMethod: input.token_endpoint_auth_method,
      scopes: input.scopes,
      claimMapping: input.claim_mapping ? mappingOf(PRESETS[current.preset].claimMapping, input.claim_mapping) : undefined,
      provisioning: input.provisioning,
      linkByVerifiedEmail: input.link_by_verified_email,
      storeTokens: input.store_tokens,
      enabled: input.enabled,
      position: input.position ?? undefined,
      allowedTenantIds: input.allowed_tenant_ids ?? undefined,
    });
    // `null` removes; a new secret replaces the private key and the reverse (one way of authenticating at a time).
    if (input.position === null) patch.position = undefined;
    if (input.allowed_tenant_ids === null) patch.allowedTenantIds = undefined;
    if (input.client_secret) Object.assign(patch, { secretCiphertext: this.seal(app.id, slug, 'secret', input.client_secret), privateKeyCiphertext: undefined });
    if (input.private_key_jwk) Object.assign(patch, { privateKeyCiphertext: this.seal(app.id, slug, 'key', JSON.stringify(input.private_key_jwk)), secretCiphertext: undefined });
    if (input.client_secret && !input.token_endpoint_auth_method && current.tokenEndpointAuthMethod === 'private_key_jwt') patch.tokenEndpointAuthMethod = 'client_secret_basic';
    if (input.private_key_jwk && !input.token_endpoint_auth_method) patch.tokenEndpointAuthMethod = 'private_key_jwt';
    const merged = { ...current, ...patch };
    for (const field of ['secretCiphertext', 'privateKeyCiphertext', 'position', 'allowedTenantIds'] as const) if (field in patch && patch[field] === undefined) delete merged[field];
    checkCredentials(merged);
    return (await this.connections.update(app.id, slug, patch))!;
  }

  async delete(app: AppRecord, slug: string): Promise<void> {
    if (!(await this.connections.delete(app.id, (await this.require(app, slug)).slug))) throw new NotFoundError(`No connection "${slug}".`);
  }
}

/** The authentication method needs its credential (RFC 6749 §2.3, RFC 7523 §2.2). */
function checkCredentials(c: Pick<ConnectionRecord, 'tokenEndpointAuthMethod' | 'secretCiphertext' | 'privateKeyCiphertext'>): void {
  const missing = c.tokenEndpointAuthMethod === 'private_key_jwt' ? !c.privateKeyCiphertext
    : c.tokenEndpointAuthMethod === 'none' ? false : !c.secretCiphertext;
  if (missing) {
    const field = c.tokenEndpointAuthMethod === 'private_key_jwt' ? 'private_key_jwk' : 'client_secret';
    throw new InvalidCredentials(field, c.tokenEndpointAuthMethod);
  }
}

export class InvalidCredentials extends Error {
  constructor(readonly field: string, readonly method: string) {
    super(`${method} needs ${field}`);
  }
}

/** The Admin API view: never a secret, only whether one is set. */
export function presentConnection(c: ConnectionRecord, issuerOfApp: string) {
  return {
    slug: c.slug,
    type: c.type,
    preset: c.preset,
    display_name: c.displayName,
    issuer: c.issuer,
    client_id: c.clientId,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    client_secret_set: Boolean(c.secretCiphertext),
    private_key_set: Boolean(c.privateKeyCiphertext),
    scopes: c.scopes,
    claim_mapping: {
      subject: c.claimMapping.subject, email: c.claimMapping.email, email_verified: c.claimMapping.emailVerified, name: c.claimMapping.name,
      phone: c.claimMapping.phone ?? null, tenant: c.claimMapping.tenant ?? null, role: c.claimMapping.role ?? null,
    },
    allowed_tenant_ids: c.allowedTenantIds ?? null,
    provisioning: c.provisioning,
    link_by_verified_email: c.linkByVerifiedEmail,
    store_tokens: c.storeTokens,
    enabled: c.enabled,
    position: c.position ?? null,
    /** What to register at the upstream as the redirect URI. */
    redirect_uri: callbackUri(issuerOfApp, c.slug),
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

/** The callback of a connection: `{issuer}/connections/{slug}/callback`. */
export function callbackUri(issuerOfApp: string, slug: string): string {
  return `${issuerOfApp}/connections/${slug}/callback`;
}
