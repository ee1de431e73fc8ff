/**
 * The storage contract, documented once. Every implementation (memory, redis, mongo) honours exactly these
 * semantics and is checked by the contract suites in `test/storage/`.
 *
 * - Repositories hold durable records. Every method is scoped by `appId`: no method can read another app's data.
 * - Arguments are plain validated values (strings, numbers); implementations never pass caller objects into queries.
 * - Uniqueness violations throw `ConflictError`; an unreachable backend throws `ServiceUnavailableError`.
 * - Records returned are copies: mutating them never changes what is stored.
 */
import type { Branding, TenantBranding } from '../branding/branding-schema.js';
import type { Adapter, AdapterPayload } from 'oidc-provider';

export type AccountStatus = 'active' | 'invited' | 'deactivated';
export type LoginMethod = 'password' | 'email_code' | 'sms_code' | 'magic_link';

export interface AppSettings {
  login_methods: LoginMethod[];
  registration: 'open' | 'invite_only' | 'closed';
  accounts_per_email: 'one' | 'many';
  /** Absolute session lifetime in seconds. */
  session_ttl_seconds: number;
  messaging: {
    mode: 'simulate' | 'deliver';
    sender_name?: string;
    sender_address?: string;
  };
  /** Where an accepted invitation lands when the client has no `initiate_login_uri`. */
  invitation_landing_uri?: string;
  /** Locale for pages and messages. */
  locale: string;
  /** Pages always in `locale`: no `ui_locales`, Accept-Language or switcher (absent = false). */
  force_locale?: boolean;
  /** Name, logo, colours and footer links of pages and messages (src/branding/). */
  branding?: Branding;
  /** Display names of roles (`role slug → name`). */
  role_names?: Record<string, string>;
  /**
   * RP-initiated logout: `always` shows "Sign out of …?"; `skip_with_id_token_hint` signs out at once when the
   * request carries an id_token_hint of the current session. Absent on apps stored before it existed (= always).
   */
  logout_confirmation?: 'always' | 'skip_with_id_token_hint';
  /**
   * Second factors (see `src/mfa/policy.ts`): `off` asks none, `optional` asks those who enrolled, `required` asks
   * everyone (enrolling those without one). Absent on apps stored before it existed (= off).
   */
  mfa?: 'off' | 'optional' | 'required';
  /** Which factors count as a second factor. Absent = `['totp']`. */
  mfa_methods?: Array<'totp' | 'webauthn' | 'email_code'>;
  /** Passkeys offered as the whole sign-in. Absent = false. */
  passkey_sign_in?: boolean;
  /** "Remember this device" after a second factor, for this many days; absent or 0 = not offered. */
  mfa_remember_days?: number;
  /** The operator's address for notices (a webhook endpoint disabled); absent or null = nobody is emailed. */
  admin_contact?: string | null;
  /** The account center offers "Delete my account". Absent on apps stored before it existed (= false). */
  self_service_deletion?: boolean;
}

export interface AppRecord {
  id: string;
  slug: string;
  name: string;
  settings: AppSettings;
  /** Bumped on every change; provider instances built from an older version are rebuilt. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Private signing keys and cookie keys of one app. Never leaves the server. */
export interface AppKeysRecord {
  appId: string;
  /** Private JWKs (ES256 first: it is the default signing key). */
  jwks: Array<Record<string, unknown>>;
  /** Keys that sign the app's cookies, newest first. */
  cookieKeys: string[];
  createdAt: Date;
}

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface ClientRecord {
  appId: string;
  clientId: string;
  name: string;
  /** AES-256-GCM ciphertext of the secret (see `crypto/secret-box.ts`); absent for public clients. */
  secretCiphertext?: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  firstParty: boolean;
  requirePkce: boolean;
  initiateLoginUri?: string;
  /** JWS algorithm of the client's ID tokens; absent on clients stored before it existed (they keep RS256). */
  idTokenSignedResponseAlg?: 'ES256' | 'RS256';
  /** Access tokens must be DPoP-bound (RFC 9449 §5.2 `dpop_bound_access_tokens`). Absent = false. */
  requireDpop?: boolean;
  /** The tenant the client itself belongs to: its `client_credentials` tokens for a resource carry it. */
  tenantId?: string;
  /** Shown under the client's name in the account center's launcher ("Your apps"). */
  description?: string;
  /** The client's logo in the launcher (OIDC Registration §2 `logo_uri`): an https image, linked, never fetched by us. */
  logoUri?: string;
  /** false: a first-party client with an initiate_login_uri stays out of the launcher. Absent = shown. */
  showInLauncher?: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface AccountRecord {
  appId: string;
  id: string;
  email?: string;
  emailVerified: boolean;
  /** E.164 phone number. */
  phone?: string;
  phoneVerified: boolean;
  name?: string;
  passwordHash?: string;
  status: AccountStatus;
  /** Contact opted out of messages: no codes or links are sent to it. */
  optedOut: boolean;
  /**
   * Set to the email when the app allows one account per email; a unique index on (appId, uniqueEmail) enforces it
   * without a race. Absent when the app allows several accounts per email.
   */
  uniqueEmail?: string;
  locale?: string;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt?: Date;
  loginCount: number;
  /**
   * Sessions and tokens from sign-ins before this moment are no longer honoured (set when the password is reset).
   * Checked wherever the provider loads the account, so nothing has to be found and deleted one by one.
   */
  signInsValidFrom?: Date;
  /** Identifiers of the person in other systems (`hub_user_id`, `psa_contact_id`, …), as a partner's token mapped them. */
  externalIds?: Record<string, string>;
  /** The partner subjects this account is (`(partner, subject)` unique within the app): how partner sign-ins find it. */
  partnerLinks?: PartnerLink[];
}

export interface PartnerLink {
  /** The partner's slug. */
  partner: string;
  /** The token's subject claim (as mapped by the partner's `claim_mapping.subject`). */
  subject: string;
}

export interface TenantRecord {
  appId: string;
  id: string;
  slug: string;
  name: string;
  /** The organisation's id in another system (e.g. a PSA company id), unique within the app when set. */
  externalId?: string;
  /** `required`: members signing in to this tenant need a second factor even when the app does not ask. */
  mfa?: 'inherit' | 'required';
  /** Home realm discovery: the connection (slug) this organisation signs in with, and its email domains (unique per app). */
  connection?: string;
  domains?: string[];
  /** With a connection: the password (and other methods) still work for its domains. Absent = false. */
  allowPassword?: boolean;
  /** The tenant's own name, logo and primary colour on pages once it is known (src/branding/). */
  branding?: TenantBranding;
  /** Display names of roles for this tenant's people (`role slug → name`), over the app's `role_names`. */
  roleNames?: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

/** How a partner's token claims become an account, its tenant and its roles (`partners/partner-config.ts`). */
export interface PartnerClaimMapping {
  subject: string;
  email?: string;
  name?: string;
  tenant?: { claim: string; match: 'slug' | 'id' | 'external_id'; create: boolean };
  role?: { claim: string; map: Record<string, string>; default?: string };
  /** Account field → token claim. */
  externalIds: Record<string, string>;
}

/** A trusted system whose signed tokens sign people in to an app (partner sign-in links, RFC 7523 grant). */
export interface PartnerRecord {
  appId: string;
  slug: string;
  name: string;
  /** Expected `iss`. */
  issuer: string;
  /** Expected `aud`; absent means the app's issuer. */
  audience?: string;
  /** AES-256-GCM ciphertext of the shared secret (HS*); never returned. */
  secretCiphertext?: string;
  jwksUri?: string;
  /** Inline public keys. */
  jwks?: { keys: Array<Record<string, unknown>> };
  algorithms: string[];
  requiredClaims: Record<string, string | number | boolean>;
  maxTokenAgeSeconds: number;
  clockSkewSeconds: number;
  provisioning: 'create' | 'off';
  claimMapping: PartnerClaimMapping;
  /** The client whose `initiate_login_uri` a person lands on after a link. */
  landingClientId?: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface MembershipRecord {
  appId: string;
  tenantId: string;
  accountId: string;
  roles: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface InvitationRecord {
  appId: string;
  id: string;
  accountId: string;
  email: string;
  tenantId?: string;
  roles?: string[];
  clientId?: string;
  /** SHA-256 of the link token; the token itself is only in the email. */
  tokenHash: string;
  status: 'pending' | 'accepted' | 'revoked';
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface OutboxMessage {
  appId: string;
  id: string;
  channel: 'email' | 'sms';
  to: string;
  subject?: string;
  text: string;
  html?: string;
  /** simulated: kept here only; queued/sent/failed: deliver mode. */
  status: 'simulated' | 'queued' | 'sent' | 'failed';
  attempts: number;
  lastError?: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface AuditEvent {
  appId: string;
  id: string;
  type: string;
  accountId?: string;
  ip?: string;
  /** The tenant the event concerns (tenant and membership changes, tenant-scoped sign-ins). */
  tenantId?: string;
  /** Who made the change: `bootstrap` (ADMIN_API_KEY), an Admin API key id (`key_…`) or a console operator (`console:{account id}`); absent for end users. */
  actor?: string;
  detail?: Record<string, string | number | boolean | undefined>;
  createdAt: Date;
  /** End of retention (AUDIT_RETENTION_DAYS): never listed afterwards; a TTL index removes it on MongoDB. */
  expiresAt?: Date;
}

/** A page of the audit log, newest first (`createdAt` descending, then `id` descending: a total order). */
export interface AuditQuery {
  /** Events whose type starts with this text (`sign_in.` or `account`). */
  typePrefix?: string;
  accountId?: string;
  tenantId?: string;
  ip?: string;
  /** Inclusive lower bound of `createdAt`. */
  since?: Date;
  /** Exclusive upper bound of `createdAt`. */
  until?: Date;
  /** The cursor: only events after this one in newest-first order. */
  before?: { createdAt: Date; id: string };
  limit: number;
}

/**
 * A managed Admin API key. Not scoped by app (keys are the Admin API's own principals): the exception to the rule
 * above. Only the SHA-256 of the secret is stored; the secret is shown once, at creation.
 */
export interface AdminKeyRecord {
  id: string;
  name: string;
  /** SHA-256 (base64url) of the key; the key has 256 bits of entropy, so a plain hash is enough (no salt/KDF). */
  secretHash: string;
  /** `admin`, or `{resource}:read` / `{resource}:write`. */
  scopes: string[];
  /** App slugs the key may use, or `["*"]`. */
  apps: string[];
  expiresAt?: Date;
  lastUsedAt?: Date;
  createdAt: Date;
}

/** A webhook signing secret (Standard Webhooks `whsec_…`), encrypted at rest with the SecretBox. */
export interface WebhookSecret {
  ciphertext: string;
  createdAt: Date;
  /** Set when a newer secret replaced it: it still signs (next to the new one) until then. */
  expiresAt?: Date;
}

export interface WebhookRecord {
  appId: string;
  id: string;
  url: string;
  /** Event types, or `["*"]` for every type. */
  events: string[];
  enabled: boolean;
  description?: string;
  /** Newest first. */
  secrets: WebhookSecret[];
  /** Start of the current run of failed attempts; cleared by a success. */
  failingSince?: Date;
  /** Why the endpoint was disabled by the server (`failing`), absent when an operator disabled it. */
  disabledReason?: string;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event for one endpoint: the durable outbox row the delivery worker sends until it is delivered or failed. */
export interface WebhookDelivery {
  appId: string;
  /** `msg_…`: the `webhook-id` header, the same on every attempt so receivers can deduplicate. */
  id: string;
  webhookId: string;
  eventId: string;
  type: string;
  /** The exact JSON body that is signed and sent. */
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  /** Which worker holds the delivery and until when (a crashed worker's lease expires and another takes over). */
  leaseOwner?: string;
  leaseExpiresAt?: Date;
  lastStatusCode?: number;
  lastLatencyMs?: number;
  lastError?: string;
  createdAt: Date;
  updatedAt: Date;
}

export type FactorType = 'totp' | 'webauthn' | 'recovery_codes';

/**
 * One second factor of an account. Secrets never leave the server: a TOTP secret is AES-256-GCM ciphertext
 * (`crypto/secret-box.ts`, bound to app, account and factor id), recovery codes are SHA-256 hashes.
 */
export interface FactorRecord {
  appId: string;
  id: string;
  accountId: string;
  type: FactorType;
  /** A name the person recognises ("Authenticator app", a passkey's name). */
  name: string;
  /** totp: the sealed base32 secret. */
  secretCiphertext?: string;
  /** recovery_codes: hashes of the codes not used yet. */
  codeHashes?: string[];
  /** webauthn: base64url credential id, public key (COSE, base64url), sign counter, transports, backup flags. */
  credentialId?: string;
  publicKey?: string;
  counter?: number;
  transports?: string[];
  deviceType?: 'singleDevice' | 'multiDevice';
  backedUp?: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt?: Date;
}

export interface FactorRepository {
  create(factor: FactorRecord): Promise<void>;
  findById(appId: string, id: string): Promise<FactorRecord | undefined>;
  /** The account's factors, oldest first. */
  listByAccount(appId: string, accountId: string): Promise<FactorRecord[]>;
  /** A webauthn factor by its credential id (passkey sign-in: no account known yet). */
  findByCredentialId(appId: string, credentialId: string): Promise<FactorRecord | undefined>;
  update(appId: string, id: string, patch: Patch<FactorRecord>): Promise<FactorRecord | undefined>;
  /**
   * Atomically removes `codeHash` from a recovery-codes factor: the codes left, or undefined when the hash was not
   * there (already used, or never). Of concurrent callers with one code exactly one succeeds.
   */
  takeRecoveryCode(appId: string, id: string, codeHash: string, at: Date): Promise<number | undefined>;
  delete(appId: string, id: string): Promise<boolean>;
  /** Removes every factor of the account; how many there were. */
  deleteByAccount(appId: string, accountId: string): Promise<number>;
  deleteByApp(appId: string): Promise<void>;
}

/** One scope of an API resource, as clients request it (`tickets:read`). */
export interface ResourceScope {
  value: string;
  description?: string;
}

/**
 * An API that consumes the app's access tokens (RFC 8707 resource indicators): its identifier is the tokens'
 * `aud`. Read by the app's provider once per app version (see `provider/resource-servers.ts`).
 */
export interface ResourceRecord {
  appId: string;
  id: string;
  /** Absolute URI, unique within the app: what clients send as `resource=` and what the API checks as `aud`. */
  identifier: string;
  name: string;
  scopes: ResourceScope[];
  accessTokenFormat: 'jwt' | 'opaque';
  accessTokenTtlSeconds: number;
  /** Client ids that may ask for tokens for this resource; absent = every client of the app. */
  allowedClients?: string[];
  /** Tenant role → the scopes it permits; absent = scopes are not limited by role. */
  roleScopes?: Record<string, string[]>;
  /** Tokens for this resource must be DPoP-bound (RFC 9449). */
  requireDpop: boolean;
  /** The app's default resource: tokens requested without `resource=` are for it (at most one per app). */
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface ResourceRepository {
  /** Throws ConflictError when the app already has a resource with this id or identifier. */
  create(resource: ResourceRecord): Promise<void>;
  find(appId: string, id: string): Promise<ResourceRecord | undefined>;
  findByIdentifier(appId: string, identifier: string): Promise<ResourceRecord | undefined>;
  /** Oldest first. */
  list(appId: string): Promise<ResourceRecord[]>;
  /** Undefined values in the patch are ignored, except `allowedClients` and `roleScopes`, which they remove. */
  update(appId: string, id: string, patch: Patch<ResourceRecord>): Promise<ResourceRecord | undefined>;
  delete(appId: string, id: string): Promise<boolean>;
  deleteByApp(appId: string): Promise<void>;
}

/** Optional resource fields an `update` removes when the patch names them with `undefined`. */
export const REMOVABLE_RESOURCE_FIELDS = ['allowedClients', 'roleScopes'] as const;

/**
 * An upstream identity provider of an app ("Sign in with …", a customer organisation's own IdP): an OpenID Connect
 * provider the app is a relying party of (`src/connections/`).
 */
export interface ConnectionRecord {
  appId: string;
  /** Unique per app; part of the callback path. */
  slug: string;
  type: 'oidc';
  preset: 'google' | 'microsoft' | 'generic';
  displayName: string;
  /** The upstream's issuer (discovery); Entra ID's multi-tenant issuers are validated against the token's `tid`. */
  issuer: string;
  clientId: string;
  /** AES-256-GCM ciphertext of the client secret (client_secret_basic/post); never returned. */
  secretCiphertext?: string;
  /** AES-256-GCM ciphertext of the private JWK (private_key_jwt, RFC 7523 §2.2); never returned. */
  privateKeyCiphertext?: string;
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  scopes: string[];
  claimMapping: ConnectionClaimMapping;
  /** Entra ID: the directory (tenant) ids accepted; absent = any. */
  allowedTenantIds?: string[];
  provisioning: 'create' | 'off';
  linkByVerifiedEmail: boolean;
  storeTokens: boolean;
  enabled: boolean;
  /** Order of the buttons (then creation order). */
  position?: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConnectionClaimMapping {
  subject: string;
  email: string;
  emailVerified: string;
  name: string;
  phone?: string;
  tenant?: { claim: string; match: 'slug' | 'id' | 'external_id' };
  role?: { claim: string; map: Record<string, string>; default?: string };
}

export interface ConnectionRepository {
  /** Throws ConflictError when the app already has a connection with this slug. */
  create(connection: ConnectionRecord): Promise<void>;
  find(appId: string, slug: string): Promise<ConnectionRecord | undefined>;
  /** By `position` (absent last), then oldest first. */
  list(appId: string): Promise<ConnectionRecord[]>;
  /** Undefined values are ignored, except `secretCiphertext`, `privateKeyCiphertext`, `allowedTenantIds`, `position`, which they remove. */
  update(appId: string, slug: string, patch: Patch<ConnectionRecord>): Promise<ConnectionRecord | undefined>;
  delete(appId: string, slug: string): Promise<boolean>;
  deleteByApp(appId: string): Promise<void>;
}

export const REMOVABLE_CONNECTION_FIELDS = ['secretCiphertext', 'privateKeyCiphertext', 'allowedTenantIds', 'position'] as const;

/** An upstream identity linked to an account: `(connection, issuer, subject)` is unique within the app. */
export interface IdentityLinkRecord {
  appId: string;
  id: string;
  accountId: string;
  connection: string;
  issuer: string;
  subject: string;
  /** AES-256-GCM ciphertext of the upstream tokens, only when the connection has `store_tokens`. */
  tokensCiphertext?: string;
  createdAt: Date;
}

export interface IdentityLinkRepository {
  /** Throws ConflictError when this upstream identity is already linked (to any account of the app). */
  create(link: IdentityLinkRecord): Promise<void>;
  findByIdentity(appId: string, connection: string, issuer: string, subject: string): Promise<IdentityLinkRecord | undefined>;
  /** Oldest first. */
  listByAccount(appId: string, accountId: string): Promise<IdentityLinkRecord[]>;
  setTokens(appId: string, id: string, tokensCiphertext: string): Promise<void>;
  /** Removes the link only when it belongs to this account. */
  delete(appId: string, accountId: string, id: string): Promise<boolean>;
  deleteByAccount(appId: string, accountId: string): Promise<void>;
  deleteByConnection(appId: string, connection: string): Promise<void>;
  deleteByApp(appId: string): Promise<void>;
}

export type Patch<T> = Partial<Omit<T, 'appId' | 'id' | 'createdAt'>>;

export interface AppRepository {
  create(app: AppRecord): Promise<void>;
  findBySlug(slug: string): Promise<AppRecord | undefined>;
  findById(id: string): Promise<AppRecord | undefined>;
  list(): Promise<AppRecord[]>;
  /** Applies the patch, increments `version`, returns the new record (undefined when missing). */
  update(id: string, patch: Partial<Pick<AppRecord, 'name' | 'settings'>>): Promise<AppRecord | undefined>;
  /** Increments `version` only (used when something the provider is built from changes, e.g. keys). */
  touch(id: string): Promise<AppRecord | undefined>;
  /** Returns `version` of every app that has one, for cheap cross-process invalidation checks. */
  versions(ids: string[]): Promise<Map<string, number>>;
  delete(id: string): Promise<boolean>;
}

export interface AppKeysRepository {
  get(appId: string): Promise<AppKeysRecord | undefined>;
  put(keys: AppKeysRecord): Promise<void>;
  delete(appId: string): Promise<void>;
}

export interface ClientRepository {
  create(client: ClientRecord): Promise<void>;
  find(appId: string, clientId: string): Promise<ClientRecord | undefined>;
  list(appId: string): Promise<ClientRecord[]>;
  update(appId: string, clientId: string, patch: Patch<ClientRecord>): Promise<ClientRecord | undefined>;
  delete(appId: string, clientId: string): Promise<boolean>;
  deleteByApp(appId: string): Promise<void>;
}

export interface AccountRepository {
  create(account: AccountRecord): Promise<void>;
  findById(appId: string, id: string): Promise<AccountRecord | undefined>;
  /** Every account with this (normalised) email, oldest first. */
  findByEmail(appId: string, email: string): Promise<AccountRecord[]>;
  findByPhone(appId: string, phone: string): Promise<AccountRecord[]>;
  /** The account linked to this partner's subject (a `partnerLinks` entry), if any. */
  findByPartnerSubject(appId: string, partner: string, subject: string): Promise<AccountRecord | undefined>;
  list(appId: string, filter?: { email?: string; limit?: number; after?: string }): Promise<AccountRecord[]>;
  update(appId: string, id: string, patch: Patch<AccountRecord>): Promise<AccountRecord | undefined>;
  /** Atomically `loginCount += 1`, `lastLoginAt = at`. */
  recordLogin(appId: string, id: string, at: Date): Promise<void>;
  delete(appId: string, id: string): Promise<boolean>;
  deleteByApp(appId: string): Promise<void>;
}

export interface TenantRepository {
  create(tenant: TenantRecord): Promise<void>;
  findById(appId: string, id: string): Promise<TenantRecord | undefined>;
  findBySlug(appId: string, slug: string): Promise<TenantRecord | undefined>;
  findByExternalId(appId: string, externalId: string): Promise<TenantRecord | undefined>;
  /** The tenant that lists this (lower-case) email domain; a domain listed by two tenants is a ConflictError on write. */
  findByDomain(appId: string, domain: string): Promise<TenantRecord | undefined>;
  /** The tenants whose own IdP is this connection (oldest first). */
  findByConnection(appId: string, connection: string): Promise<TenantRecord[]>;
  findManyByIds(appId: string, ids: string[]): Promise<TenantRecord[]>;
  list(appId: string): Promise<TenantRecord[]>;
  update(appId: string, id: string, patch: Patch<TenantRecord>): Promise<TenantRecord | undefined>;
  /** Deletes the tenant and its memberships. */
  delete(appId: string, id: string): Promise<boolean>;
  deleteByApp(appId: string): Promise<void>;

  /** Creates or replaces the membership's roles. */
  putMember(membership: MembershipRecord): Promise<MembershipRecord>;
  findMember(appId: string, tenantId: string, accountId: string): Promise<MembershipRecord | undefined>;
  removeMember(appId: string, tenantId: string, accountId: string): Promise<boolean>;
  listMembers(appId: string, tenantId: string): Promise<MembershipRecord[]>;
  listMembershipsOfAccount(appId: string, accountId: string): Promise<MembershipRecord[]>;
  removeMembershipsOfAccount(appId: string, accountId: string): Promise<void>;
}

export interface InvitationRepository {
  create(invitation: InvitationRecord): Promise<void>;
  findById(appId: string, id: string): Promise<InvitationRecord | undefined>;
  findByTokenHash(appId: string, tokenHash: string): Promise<InvitationRecord | undefined>;
  list(appId: string): Promise<InvitationRecord[]>;
  update(appId: string, id: string, patch: Patch<InvitationRecord>): Promise<InvitationRecord | undefined>;
  deleteByApp(appId: string): Promise<void>;
}

/** Optional partner fields an `update` removes when the patch names them with `undefined` (switching keys). */
export const REMOVABLE_PARTNER_FIELDS = ['secretCiphertext', 'jwksUri', 'jwks', 'audience', 'landingClientId'] as const;

export interface PartnerRepository {
  create(partner: PartnerRecord): Promise<void>;
  find(appId: string, slug: string): Promise<PartnerRecord | undefined>;
  list(appId: string): Promise<PartnerRecord[]>;
  /** Undefined values in the patch are ignored, except `secretCiphertext`, `jwksUri`, `jwks`, `audience` and `landingClientId`, which they remove. */
  update(appId: string, slug: string, patch: Patch<PartnerRecord>): Promise<PartnerRecord | undefined>;
  delete(appId: string, slug: string): Promise<boolean>;
  deleteByApp(appId: string): Promise<void>;
}

export interface OutboxRepository {
  add(message: OutboxMessage): Promise<void>;
  /** Unexpired messages of the app, oldest first (newest last). */
  list(appId: string, limit?: number): Promise<OutboxMessage[]>;
  update(appId: string, id: string, patch: Patch<OutboxMessage>): Promise<void>;
  deleteByApp(appId: string): Promise<void>;
}

export interface AuditRepository {
  add(event: AuditEvent): Promise<void>;
  list(appId: string, filter?: { accountId?: string; limit?: number }): Promise<AuditEvent[]>;
  /** Unexpired events matching every given filter, newest first, at most `limit`. */
  query(appId: string, query: AuditQuery): Promise<AuditEvent[]>;
  deleteByApp(appId: string): Promise<void>;
}

export interface AdminKeyRepository {
  create(key: AdminKeyRecord): Promise<void>;
  findById(id: string): Promise<AdminKeyRecord | undefined>;
  findBySecretHash(secretHash: string): Promise<AdminKeyRecord | undefined>;
  /** Oldest first. */
  list(): Promise<AdminKeyRecord[]>;
  touch(id: string, at: Date): Promise<void>;
  delete(id: string): Promise<boolean>;
}

export interface WebhookRepository {
  create(webhook: WebhookRecord): Promise<void>;
  find(appId: string, id: string): Promise<WebhookRecord | undefined>;
  /** Oldest first. */
  list(appId: string): Promise<WebhookRecord[]>;
  update(appId: string, id: string, patch: Patch<WebhookRecord>): Promise<WebhookRecord | undefined>;
  delete(appId: string, id: string): Promise<boolean>;
  deleteByApp(appId: string): Promise<void>;
}

export interface WebhookDeliveryRepository {
  /** Stores every delivery of one event in one write. */
  addMany(deliveries: WebhookDelivery[]): Promise<void>;
  find(appId: string, id: string): Promise<WebhookDelivery | undefined>;
  /** Deliveries of one endpoint, newest first (createdAt, then id, descending), after the cursor position. */
  list(appId: string, webhookId: string, page: { before?: { createdAt: Date; id: string }; limit: number }): Promise<WebhookDelivery[]>;
  /**
   * Claims up to `limit` pending deliveries that are due at `now` and not leased (or whose lease expired), oldest due
   * first, for `owner` until `now + leaseMs`. Each delivery is claimed by exactly one concurrent caller.
   */
  claim(owner: string, now: Date, leaseMs: number, limit: number): Promise<WebhookDelivery[]>;
  /** Applies the patch and releases the lease, only while `owner` still holds it; false when the lease was lost. */
  settle(appId: string, id: string, owner: string, patch: Patch<WebhookDelivery>): Promise<boolean>;
  /** Applies the patch and clears any lease (operator retry). */
  update(appId: string, id: string, patch: Patch<WebhookDelivery>): Promise<WebhookDelivery | undefined>;
  /** Pending deliveries of every app (the queue depth). */
  countPending(): Promise<number>;
  deleteByWebhook(appId: string, webhookId: string): Promise<void>;
  deleteByApp(appId: string): Promise<void>;
}

/**
 * Short-lived records with a time to live: one-time codes, rate-limit counters, single-use token ids.
 * Keys are opaque strings already namespaced by the caller (`app:{appId}:…`).
 */
export interface EphemeralStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  /** Sets only when absent; true when this call created it (single-use ids, replay prevention). */
  setIfAbsent(key: string, value: unknown, ttlSeconds: number): Promise<boolean>;
  /** Reads and deletes atomically: of concurrent callers exactly one gets the value. */
  take<T>(key: string): Promise<T | undefined>;
  delete(key: string): Promise<void>;
  /** Increments a counter created with `ttlSeconds` (a fixed window); returns the new value. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  /** Seconds left before the key expires, or undefined when it does not exist. */
  ttl(key: string): Promise<number | undefined>;
  /**
   * {@link setIfAbsent} of `key`, then, only when this call created it, {@link increment} of each counter: the new
   * counts in order, or undefined when `key` was already there (then no counter moved). A store that can do both in
   * one round trip does (a resend wait and the send caps behind it); `claimThenIncrementInSteps`
   * (`./store-steps.ts`) is the plain form.
   */
  claimThenIncrement(key: string, value: unknown, ttlSeconds: number, counters: ReadonlyArray<CounterRef>): Promise<number[] | undefined>;
  /**
   * One try at a single-use secret: {@link increment} of `tries`, then, when the count is at most `maxTries` and the
   * record at `key` is an object whose `field` equals `expected`, {@link take} of the record and deletion of `tries`;
   * past `maxTries` the record is deleted. Of concurrent matching tries exactly one takes it. A store that can do
   * this in one round trip does; `takeIfMatchesInSteps` (`./store-steps.ts`) is the plain form.
   */
  takeIfMatches<T>(key: string, tries: CounterRef, maxTries: number, field: string, expected: string): Promise<SecretTry<T>>;
}

/** What {@link EphemeralStore.takeIfMatches} found: the try's count, the record (unless absent or deleted), whether it was taken. */
export interface SecretTry<T> {
  tries: number;
  record?: T;
  taken: boolean;
}

/** A fixed-window counter of {@link EphemeralStore.increment}. */
export interface CounterRef {
  key: string;
  ttlSeconds: number;
}

/**
 * Models whose records are tokens issued under a grant: `revokeByGrantId` removes exactly these. Other models may
 * carry a `grantId` too (an Interaction does), but must survive a revocation: the provider revokes the old grant
 * while the person is in the middle of an interaction (switching accounts), and that interaction must go on.
 */
export const GRANTABLE_OIDC_MODELS: ReadonlySet<string> = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);

/** oidc-provider's Adapter, created per app and model: `factory(appId)(modelName)`. */
export type OidcAdapterFactory = (appId: string) => (model: string) => Adapter;

/**
 * Models whose records each store also indexes by the payload's `accountId`: "every session, grant and refresh
 * token of this account" is one lookup (sign out everywhere, offboarding, the account center), never a scan.
 */
export const ACCOUNT_INDEXED_OIDC_MODELS = ['Session', 'Grant', 'RefreshToken'] as const;
export type AccountIndexedModel = (typeof ACCOUNT_INDEXED_OIDC_MODELS)[number];

/** One stored oidc-provider record: its id (what the adapter's `find`/`destroy` take) and a copy of its payload. */
export interface OidcRecordRef {
  id: string;
  payload: AdapterPayload;
}

/**
 * The account index of the OIDC store, beside its Adapter (`OidcAdapterFactory`). Entries are written by the
 * adapter's `upsert` and go with the record (destroy, revokeByGrantId, expiry): an implementation may keep stale
 * entries but never returns them.
 */
export interface OidcAccountIndex {
  /**
   * Unexpired records of `model` in the app whose payload's `accountId` is `accountId` now (a session re-saved for
   * another account is not returned for the first), in no particular order.
   */
  listByAccount(appId: string, model: AccountIndexedModel, accountId: string): Promise<OidcRecordRef[]>;
}

export interface HealthReport {
  ok: boolean;
  checks: Record<string, 'up' | 'down'>;
}

/** Everything the composition root needs from storage; built by `storage/select.ts` from configuration. */
export interface Stores {
  /** Human description for the start-up log, e.g. "embedded (in-process)". */
  description: string;
  embedded: boolean;
  apps: AppRepository;
  appKeys: AppKeysRepository;
  clients: ClientRepository;
  accounts: AccountRepository;
  tenants: TenantRepository;
  invitations: InvitationRepository;
  partners: PartnerRepository;
  outbox: OutboxRepository;
  audit: AuditRepository;
  adminKeys: AdminKeyRepository;
  webhooks: WebhookRepository;
  webhookDeliveries: WebhookDeliveryRepository;
  factors: FactorRepository;
  resources: ResourceRepository;
  connections: ConnectionRepository;
  identityLinks: IdentityLinkRepository;
  ephemeral: EphemeralStore;
  oidcAdapter: OidcAdapterFactory;
  /** Sessions, grants and refresh tokens by account, in whichever store holds each model (see `oidcAdapter`). */
  oidcAccountIndex: OidcAccountIndex;
  /** Readiness of every backing service. */
  health(): Promise<HealthReport>;
  /** Redis commands/transactions sent so far (0 without Redis): benchmarks report round trips per flow. */
  redisRoundTrips(): number;
  /** Observes the duration of every Redis/MongoDB command (metrics); nothing is observed on the embedded store. */
  onCommand(listener: (store: 'redis' | 'mongodb', seconds: number, ok: boolean) => void): void;
  /** Fast synchronous check used before serving a request that needs the stores. */
  available(): boolean;
  close(): Promise<void>;
}
