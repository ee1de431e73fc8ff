/**
 * Mongoose schemas and models, bound to one connection by {@link defineModels}. Nothing here is registered on the
 * global mongoose instance, so several connections (tests, tools) can coexist in one process.
 *
 * Schema choices that keep documents identical to the records of `../ports.ts`:
 * - `versionKey: false` and `id: false`: no `__v`, and no `id` virtual shadowing the records' own `id` field.
 * - `minimize: false`: an empty object (e.g. `detail: {}`) is stored as such instead of disappearing.
 * - optional arrays have `default: undefined`: mongoose would otherwise store `[]` for a field the record omitted.
 * - free-form values (`settings`, `jwks`, `detail`, ephemeral `value`) are `Mixed`: they are validated before they get
 *   here, and a sub-schema would silently drop keys it does not know.
 * - durable records use `timestamps` so updates refresh `updatedAt` like the memory store does; creates pass
 *   `timestamps: false` to keep the caller's `createdAt`/`updatedAt`.
 *
 * Indexes are declared here but built only by `ensureIndexes()` (the connection has `autoIndex: false`).
 */
import mongoose from 'mongoose';
import type { Connection, Model, Schema as AnySchema, SchemaOptions } from 'mongoose';
import type {
  AccountRecord, AppKeysRecord, AppRecord, AuditEvent, ClientRecord, InvitationRecord, MembershipRecord,
  OutboxMessage, PartnerRecord, TenantRecord, AdminKeyRecord, WebhookRecord, WebhookDelivery, FactorRecord,
  ConnectionRecord, IdentityLinkRecord,
} from '../ports.js';
import { factorModel } from './factor-repository.js';
import { resourceModel, type ResourceDoc } from './resource-repository.js';
import { connectionModel, identityLinkModel } from './connection-repositories.js';

const { Schema } = mongoose;
const { Mixed } = Schema.Types;

/** One oidc-provider record (see `oidc-adapter.ts`). */
export interface OidcRecordDoc {
  /** `{appId}:{model}:{id}`. */
  _id: string;
  appId: string;
  model: string;
  /**
   * The payload as JSON text. oidc-provider payloads have keys that contain dots (resource indicator URLs in
   * `Grant.resources`, client ids in `Session.authorizations`), which MongoDB field names handle inconsistently
   * across server versions; a string is stored and returned exactly.
   */
  payload: string;
  /** Set by `consume()` (epoch seconds) and merged into the payload on read. */
  consumed?: number;
  uid?: string;
  userCode?: string;
  grantId?: string;
  /** Session, Grant and RefreshToken: the account, for the account index. */
  accountId?: string;
  /** Absent for records without expiry. */
  expiresAt?: Date;
}

/** One ephemeral key (see `ephemeral-store.ts`). */
export interface EphemeralRecordDoc {
  _id: string;
  value: unknown;
  /** Absent for keys without expiry. */
  expiresAt?: Date;
}

export interface MongoModels {
  apps: Model<AppRecord>;
  appKeys: Model<AppKeysRecord>;
  clients: Model<ClientRecord>;
  accounts: Model<AccountRecord>;
  tenants: Model<TenantRecord>;
  memberships: Model<MembershipRecord>;
  invitations: Model<InvitationRecord>;
  partners: Model<PartnerRecord>;
  outbox: Model<OutboxMessage>;
  audit: Model<AuditEvent>;
  adminKeys: Model<AdminKeyRecord>;
  webhooks: Model<WebhookRecord>;
  webhookDeliveries: Model<WebhookDelivery>;
  factors: Model<FactorRecord>;
  resources: Model<ResourceDoc>;
  connections: Model<ConnectionRecord>;
  identityLinks: Model<IdentityLinkRecord>;
  oidc: Model<OidcRecordDoc>;
  ephemeral: Model<EphemeralRecordDoc>;
}

/** TTL index: MongoDB's monitor removes a document once `expiresAt` is in the past (it runs every 60 s). */
const TTL_INDEX = { expireAfterSeconds: 0 } as const;

function options(collection: string, timestamps: SchemaOptions['timestamps']): SchemaOptions {
  return { collection, timestamps, versionKey: false, id: false, minimize: false, strict: true };
}

const DURABLE = true;
const CREATED_ONLY = { createdAt: true, updatedAt: false } as const;

const optionalStrings = { type: [String], default: undefined };
const requiredStrings = { type: [String], required: true, default: undefined };
const requiredString = { type: String, required: true };

function appSchema() {
  const schema = new Schema({
    id: requiredString,
    slug: requiredString,
    name: String,
    settings: { type: Mixed },
    version: { type: Number, required: true },
    createdAt: Date,
    updatedAt: Date,
  }, options('apps', DURABLE));
  schema.index({ id: 1 }, { unique: true });
  schema.index({ slug: 1 }, { unique: true });
  return schema;
}

function appKeysSchema() {
  const schema = new Schema({
    appId: requiredString,
    jwks: { type: Mixed },
    cookieKeys: requiredStrings,
    createdAt: Date,
  }, options('app_keys', CREATED_ONLY));
  schema.index({ appId: 1 }, { unique: true });
  return schema;
}

function clientSchema() {
  const schema = new Schema({
    appId: requiredString,
    clientId: requiredString,
    name: String,
    secretCiphertext: String,
    redirectUris: requiredStrings,
    postLogoutRedirectUris: requiredStrings,
    grantTypes: requiredStrings,
    tokenEndpointAuthMethod: String,
    firstParty: Boolean,
    requirePkce: Boolean,
    initiateLoginUri: String,
    idTokenSignedResponseAlg: String,
    requireDpop: Boolean,
    tenantId: String,
    description: String,
    logoUri: String,
    showInLauncher: Boolean,
    createdAt: Date,
    updatedAt: Date,
  }, options('clients', DURABLE));
  schema.index({ appId: 1, clientId: 1 }, { unique: true });
  return schema;
}

function accountSchema() {
  const schema = new Schema({
    appId: requiredString,
    id: requiredString,
    email: String,
    emailVerified: Boolean,
    phone: String,
    phoneVerified: Boolean,
    name: String,
    passwordHash: String,
    status: String,
    optedOut: Boolean,
    uniqueEmail: String,
    locale: String,
    createdAt: Date,
    updatedAt: Date,
    lastLoginAt: Date,
    loginCount: Number,
    signInsValidFrom: Date,
    externalIds: { type: Mixed },
    partnerLinks: { type: [{ _id: false, partner: requiredString, subject: requiredString }], default: undefined },
  }, options('accounts', DURABLE));
  schema.index({ appId: 1, id: 1 }, { unique: true });
  // Partial, not sparse: a sparse compound index still indexes documents that only have `appId`. `$gt: ''` covers
  // exactly the non-empty strings, the values the memory store enforces uniqueness for.
  schema.index({ appId: 1, uniqueEmail: 1 }, { unique: true, partialFilterExpression: { uniqueEmail: { $gt: '' } } });
  schema.index({ appId: 1, email: 1 });
  schema.index({ appId: 1, phone: 1 });
  // One account per (partner, subject) within an app; multikey, partial so accounts without links are not indexed.
  schema.index({ appId: 1, 'partnerLinks.partner': 1, 'partnerLinks.subject': 1 }, {
    unique: true, partialFilterExpression: { 'partnerLinks.subject': { $gt: '' } },
  });
  return schema;
}

function tenantSchema() {
  const schema = new Schema({
    appId: requiredString,
    id: requiredString,
    slug: requiredString,
    name: String,
    externalId: String,
    mfa: String,
    connection: String,
    domains: { type: [String], default: undefined },
    allowPassword: Boolean,
    branding: { type: Mixed },
    roleNames: { type: Mixed },
    createdAt: Date,
    updatedAt: Date,
  }, options('tenants', DURABLE));
  // A multikey unique index: no two tenants of an app list the same email domain (home realm discovery).
  schema.index({ appId: 1, domains: 1 }, { unique: true, partialFilterExpression: { domains: { $type: 'string' } } });
  schema.index({ appId: 1, connection: 1 }, { partialFilterExpression: { connection: { $type: 'string' } } });
  schema.index({ appId: 1, id: 1 }, { unique: true });
  schema.index({ appId: 1, slug: 1 }, { unique: true });
  schema.index({ appId: 1, externalId: 1 }, { unique: true, partialFilterExpression: { externalId: { $gt: '' } } });
  return schema;
}

function membershipSchema() {
  const schema = new Schema({
    appId: requiredString,
    tenantId: requiredString,
    accountId: requiredString,
    roles: requiredStrings,
    createdAt: Date,
    updatedAt: Date,
  }, options('memberships', DURABLE));
  schema.index({ appId: 1, tenantId: 1, accountId: 1 }, { unique: true });
  schema.index({ appId: 1, accountId: 1 });
  return schema;
}

function invitationSchema() {
  const schema = new Schema({
    appId: requiredString,
    id: requiredString,
    accountId: String,
    email: String,
    tenantId: String,
    roles: optionalStrings,
    clientId: String,
    tokenHash: String,
    status: String,
    expiresAt: Date,
    createdAt: Date,
    updatedAt: Date,
  }, options('invitations', DURABLE));
  schema.index({ appId: 1, id: 1 }, { unique: true });
  schema.index({ appId: 1, tokenHash: 1 });
  return schema;
}

function partnerSchema() {
  const schema = new Schema({
    appId: requiredString,
    slug: requiredString,
    name: String,
    issuer: String,
    audience: String,
    secretCiphertext: String,
    jwksUri: String,
    jwks: { type: Mixed },
    algorithms: requiredStrings,
    requiredClaims: { type: Mixed },
    maxTokenAgeSeconds: Number,
    clockSkewSeconds: Number,
    provisioning: String,
    claimMapping: { type: Mixed },
    landingClientId: String,
    createdAt: Date,
    updatedAt: Date,
  }, options('partners', DURABLE));
  schema.index({ appId: 1, slug: 1 }, { unique: true });
  return schema;
}

function outboxSchema() {
  const schema = new Schema({
    appId: requiredString,
    id: requiredString,
    channel: String,
    to: String,
    subject: String,
    text: String,
    html: String,
    status: String,
    attempts: Number,
    lastError: String,
    createdAt: Date,
    expiresAt: Date,
  }, options('outbox', CREATED_ONLY));
  schema.index({ appId: 1, id: 1 }, { unique: true });
  schema.index({ appId: 1, createdAt: 1 });
  schema.index({ expiresAt: 1 }, TTL_INDEX);
  return schema;
}

function auditSchema() {
  const schema = new Schema({
    appId: requiredString,
    id: requiredString,
    type: { type: String },
    accountId: String,
    ip: String,
    tenantId: String,
    actor: String,
    detail: { type: Mixed },
    createdAt: Date,
    expiresAt: Date,
  }, options('audit_events', CREATED_ONLY));
  schema.index({ appId: 1, id: 1 }, { unique: true });
  schema.index({ appId: 1, createdAt: 1 });
  schema.index({ appId: 1, accountId: 1 });
  // The audit API walks newest first with (createdAt, id) as the cursor; retention is per event (AUDIT_RETENTION_DAYS).
  schema.index({ appId: 1, createdAt: -1, id: -1 });
  schema.index({ expiresAt: 1 }, TTL_INDEX);
  return schema;
}

function adminKeySchema() {
  const schema = new Schema({
    id: requiredString,
    name: String,
    secretHash: requiredString,
    scopes: requiredStrings,
    apps: requiredStrings,
    expiresAt: Date,
    lastUsedAt: Date,
    createdAt: Date,
  }, options('admin_keys', CREATED_ONLY));
  schema.index({ id: 1 }, { unique: true });
  schema.index({ secretHash: 1 }, { unique: true });
  return schema;
}

function webhookSchema() {
  const schema = new Schema({
    appId: requiredString,
    id: requiredString,
    url: requiredString,
    events: requiredStrings,
    enabled: Boolean,
    description: String,
    secrets: { type: Mixed },
    failingSince: Date,
    disabledReason: String,
    createdAt: Date,
    updatedAt: Date,
  }, options('webhooks', DURABLE));
  schema.index({ appId: 1, id: 1 }, { unique: true });
  return schema;
}

function webhookDeliverySchema() {
  const schema = new Schema({
    appId: requiredString,
    id: requiredString,
    webhookId: requiredString,
    eventId: requiredString,
    type: { type: String },
    payload: requiredString,
    status: String,
    attempts: Number,
    nextAttemptAt: Date,
    leaseOwner: String,
    leaseExpiresAt: Date,
    lastStatusCode: Number,
    lastLatencyMs: Number,
    lastError: String,
    createdAt: Date,
    updatedAt: Date,
  }, options('webhook_deliveries', DURABLE));
  schema.index({ appId: 1, id: 1 }, { unique: true });
  schema.index({ appId: 1, webhookId: 1, createdAt: -1, id: -1 });
  // The worker's claim: pending and due, oldest due first.
  schema.index({ status: 1, nextAttemptAt: 1 });
  return schema;
}

/** Short-lived records carry `expiresAt` and no timestamps: every write is on a hot path. */
function oidcRecordSchema() {
  const schema = new Schema({
    _id: { type: String, required: true },
    appId: requiredString,
    model: requiredString,
    payload: requiredString,
    consumed: Number,
    uid: String,
    userCode: String,
    grantId: String,
    accountId: String,
    expiresAt: Date,
  }, options('oidc_records', false));
  schema.index({ appId: 1, model: 1, accountId: 1 }, { partialFilterExpression: { accountId: { $exists: true } } });
  schema.index({ appId: 1, model: 1, uid: 1 });
  schema.index({ appId: 1, model: 1, userCode: 1 });
  schema.index({ appId: 1, grantId: 1 });
  schema.index({ expiresAt: 1 }, TTL_INDEX);
  return schema;
}

function ephemeralRecordSchema() {
  const schema = new Schema({
    _id: { type: String, required: true },
    value: { type: Mixed },
    expiresAt: Date,
  }, options('ephemeral_records', false));
  schema.index({ expiresAt: 1 }, TTL_INDEX);
  return schema;
}

/** Returns the connection's model, compiling it on first use (compiling twice would throw OverwriteModelError). */
function modelOn<T>(conn: Connection, name: string, schema: () => AnySchema): Model<T> {
  const existing = conn.models[name] ?? conn.model(name, schema());
  return existing as unknown as Model<T>;
}

/** The models of every collection, compiled on `conn`. Idempotent per connection. */
export function defineModels(conn: Connection): MongoModels {
  return {
    apps: modelOn<AppRecord>(conn, 'App', appSchema),
    appKeys: modelOn<AppKeysRecord>(conn, 'AppKeys', appKeysSchema),
    clients: modelOn<ClientRecord>(conn, 'Client', clientSchema),
    accounts: modelOn<AccountRecord>(conn, 'Account', accountSchema),
    tenants: modelOn<TenantRecord>(conn, 'Tenant', tenantSchema),
    memberships: modelOn<MembershipRecord>(conn, 'Membership', membershipSchema),
    invitations: modelOn<InvitationRecord>(conn, 'Invitation', invitationSchema),
    partners: modelOn<PartnerRecord>(conn, 'Partner', partnerSchema),
    outbox: modelOn<OutboxMessage>(conn, 'OutboxMessage', outboxSchema),
    audit: modelOn<AuditEvent>(conn, 'AuditEvent', auditSchema),
    adminKeys: modelOn<AdminKeyRecord>(conn, 'AdminKey', adminKeySchema),
    webhooks: modelOn<WebhookRecord>(conn, 'Webhook', webhookSchema),
    webhookDeliveries: modelOn<WebhookDelivery>(conn, 'WebhookDelivery', webhookDeliverySchema),
    factors: factorModel(conn),
    resources: resourceModel(conn),
    connections: connectionModel(conn),
    identityLinks: identityLinkModel(conn),
    oidc: modelOn<OidcRecordDoc>(conn, 'OidcRecord', oidcRecordSchema),
    ephemeral: modelOn<EphemeralRecordDoc>(conn, 'EphemeralRecord', ephemeralRecordSchema),
  };
}
