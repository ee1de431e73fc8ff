import type { ClientMetadata } from 'oidc-provider';
import { NotFoundError, InvalidRequestError } from '../errors.js';
import { randomId } from '../crypto/random.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { AppRecord, ClientRecord, ClientRepository, TokenEndpointAuthMethod } from '../storage/ports.js';

export interface ClientInput {
  name: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  grant_types?: string[];
  token_endpoint_auth_method?: TokenEndpointAuthMethod;
  first_party?: boolean;
  require_pkce?: boolean;
  initiate_login_uri?: string;
  id_token_signed_response_alg?: IdTokenSigningAlg;
  require_dpop?: boolean;
  /** Resolved by the caller from the `tenant` the Admin API names. */
  tenant_id?: string;
  description?: string;
  logo_uri?: string;
  show_in_launcher?: boolean;
}

/**
 * ID token algorithms a client may choose: every app has one ES256 and one RS256 signing key (`apps/app-keys.ts`).
 * ES256 is the default for new clients; RS256 is there for relying parties that only verify RSA (OIDC Core §15.1
 * makes RS256 mandatory to support).
 */
export const ID_TOKEN_SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type IdTokenSigningAlg = (typeof ID_TOKEN_SIGNING_ALGS)[number];
export const DEFAULT_ID_TOKEN_SIGNING_ALG: IdTokenSigningAlg = 'ES256';
/** What clients stored before the setting existed were issued: the OIDC default (OIDC Registration §2). */
const LEGACY_ID_TOKEN_SIGNING_ALG: IdTokenSigningAlg = 'RS256';

export type ClientPatch = Partial<Omit<ClientInput, 'token_endpoint_auth_method'>>;

/** Checks the metadata a record will give the provider before it is stored; throws a 400 naming the field. */
export type MetadataCheck = (metadata: ClientMetadata) => Promise<void>;

/** Client apps (relying parties) of an app. Secrets are generated here, shown once, and stored encrypted. */
export class ClientService {
  constructor(private readonly clients: ClientRepository, private readonly box: SecretBox) {}

  async create(app: AppRecord, input: ClientInput, check?: MetadataCheck): Promise<{ client: ClientRecord; secret?: string }> {
    const method = input.token_endpoint_auth_method ?? 'client_secret_basic';
    const grantTypes = input.grant_types ?? ['authorization_code', 'refresh_token'];
    const isPublic = method === 'none';
    if (isPublic && grantTypes.includes('client_credentials')) {
      throw new InvalidRequestError('A public client cannot use client_credentials.', [
        { path: 'grant_types', message: 'client_credentials requires a confidential client' },
      ]);
    }
    // RFC 7523 §3.1: assertions are presented by clients that authenticate (they get tokens for other people).
    if (isPublic && grantTypes.includes('urn:ietf:params:oauth:grant-type:jwt-bearer')) {
      throw new InvalidRequestError('A public client cannot use the jwt-bearer grant.', [
        { path: 'grant_types', message: 'urn:ietf:params:oauth:grant-type:jwt-bearer requires a confidential client' },
      ]);
    }
    if (isPublic && input.require_pkce === false) {
      throw new InvalidRequestError('Public clients always use PKCE.', [{ path: 'require_pkce', message: 'must be true for public clients' }]);
    }
    const clientId = randomId(16);
    const secret = isPublic ? undefined : randomId(32);
    const now = new Date();
    const client: ClientRecord = {
      appId: app.id,
      clientId,
      name: input.name,
      secretCiphertext: secret ? this.box.seal(secret, `${app.id}:${clientId}`) : undefined,
      redirectUris: input.redirect_uris,
      postLogoutRedirectUris: input.post_logout_redirect_uris ?? [],
      grantTypes,
      tokenEndpointAuthMethod: method,
      firstParty: input.first_party ?? false,
      requirePkce: input.require_pkce ?? true,
      initiateLoginUri: input.initiate_login_uri,
      idTokenSignedResponseAlg: input.id_token_signed_response_alg ?? DEFAULT_ID_TOKEN_SIGNING_ALG,
      ...(input.require_dpop ? { requireDpop: true } : {}),
      ...(input.tenant_id ? { tenantId: input.tenant_id } : {}),
      ...(input.description ? { description: input.description } : {}),
      ...(input.logo_uri ? { logoUri: input.logo_uri } : {}),
      ...(input.show_in_launcher !== undefined ? { showInLauncher: input.show_in_launcher } : {}),
      createdAt: now,
      updatedAt: now,
    };
    await check?.(this.toMetadata(client));
    await this.clients.create(client);
    return { client, secret };
  }

  async require(app: AppRecord, clientId: string): Promise<ClientRecord> {
    const client = await this.clients.find(app.id, clientId);
    if (!client) throw new NotFoundError(`No client "${clientId}" in app "${app.slug}".`);
    return client;
  }

  list(app: AppRecord): Promise<ClientRecord[]> {
    return this.clients.list(app.id);
  }

  async update(app: AppRecord, clientId: string, patch: ClientPatch, check?: MetadataCheck): Promise<ClientRecord> {
    const current = await this.require(app, clientId);
    if (current.tokenEndpointAuthMethod === 'none' && patch.require_pkce === false) {
      throw new InvalidRequestError('Public clients always use PKCE.', [{ path: 'require_pkce', message: 'must be true for public clients' }]);
    }
    const changes = {
      name: patch.name,
      redirectUris: patch.redirect_uris,
      postLogoutRedirectUris: patch.post_logout_redirect_uris,
      grantTypes: patch.grant_types,
      firstParty: patch.first_party,
      requirePkce: patch.require_pkce,
      initiateLoginUri: patch.initiate_login_uri,
      idTokenSignedResponseAlg: patch.id_token_signed_response_alg,
      requireDpop: patch.require_dpop,
      tenantId: patch.tenant_id,
      description: patch.description,
      logoUri: patch.logo_uri,
      showInLauncher: patch.show_in_launcher,
    };
    if (check) {
      const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
      await check(this.toMetadata({ ...current, ...defined }));
    }
    const updated = await this.clients.update(app.id, clientId, changes);
    if (!updated) throw new NotFoundError(`No client "${clientId}" in app "${app.slug}".`);
    return updated;
  }

  async rotateSecret(app: AppRecord, clientId: string): Promise<{ client: ClientRecord; secret: string }> {
    const current = await this.require(app, clientId);
    if (current.tokenEndpointAuthMethod === 'none') throw new InvalidRequestError('Public clients have no secret.');
    const secret = randomId(32);
    const client = await this.clients.update(app.id, clientId, { secretCiphertext: this.box.seal(secret, `${app.id}:${clientId}`) });
    return { client: client!, secret };
  }

  async delete(app: AppRecord, clientId: string): Promise<void> {
    if (!(await this.clients.delete(app.id, clientId))) throw new NotFoundError(`No client "${clientId}" in app "${app.slug}".`);
  }

  /** oidc-provider client metadata, with the secret decrypted for the provider's comparison. */
  toMetadata(client: ClientRecord): ClientMetadata {
    return {
      client_id: client.clientId,
      client_name: client.name,
      ...(client.secretCiphertext ? { client_secret: this.box.open(client.secretCiphertext, `${client.appId}:${client.clientId}`) } : {}),
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      grant_types: client.grantTypes,
      response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
      token_endpoint_auth_method: client.tokenEndpointAuthMethod,
      ...(client.initiateLoginUri ? { initiate_login_uri: client.initiateLoginUri } : {}),
      id_token_signed_response_alg: idTokenAlg(client),
      // Custom metadata (declared in provider extraClientMetadata) read by our consent and PKCE policies.
      'urn:portcullis:first_party': client.firstParty,
      'urn:portcullis:require_pkce': client.requirePkce,
      ...(client.tenantId ? { 'urn:portcullis:tenant_id': client.tenantId } : {}),
      ...(client.requireDpop ? { dpop_bound_access_tokens: true } : {}),
    };
  }
}

function idTokenAlg(client: ClientRecord): IdTokenSigningAlg {
  return client.idTokenSignedResponseAlg ?? LEGACY_ID_TOKEN_SIGNING_ALG;
}

/** Admin API view of a client (never includes the secret). */
export function presentClient(client: ClientRecord) {
  return {
    client_id: client.clientId,
    name: client.name,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    grant_types: client.grantTypes,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    first_party: client.firstParty,
    require_pkce: client.requirePkce,
    ...(client.initiateLoginUri ? { initiate_login_uri: client.initiateLoginUri } : {}),
    id_token_signed_response_alg: idTokenAlg(client),
    require_dpop: client.requireDpop ?? false,
    ...(client.tenantId ? { tenant_id: client.tenantId } : {}),
    ...(client.description ? { description: client.description } : {}),
    ...(client.logoUri ? { logo_uri: client.logoUri } : {}),
    ...(client.showInLauncher !== undefined ? { show_in_launcher: client.showInLauncher } : {}),
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}
