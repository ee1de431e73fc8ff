/**
 * Upstream connections (collection `connections`) and identity links (collection `identity_links`) in MongoDB.
 * Filters are built only from `text(x)` of the arguments, so no caller object reaches a query. The claim mapping is
 * validated before it gets here and stored as a whole (its role map's keys have no `.` or `$`).
 */
import mongoose from 'mongoose';
import type { Connection, Model } from 'mongoose';
import {
  REMOVABLE_CONNECTION_FIELDS, type ConnectionRecord, type ConnectionRepository, type IdentityLinkRecord,
  type IdentityLinkRepository, type Patch,
} from '../ports.js';
import { mongoCall } from './errors.js';
import { definedOnly, text } from './values.js';

const { Schema } = mongoose;
const options = (collection: string) => ({ collection, versionKey: false, id: false, minimize: false, strict: true }) as const;

function connectionSchema() {
  const schema = new Schema({
    appId: { type: String, required: true },
    slug: { type: String, required: true },
    type: String,
    preset: String,
    displayName: String,
    issuer: String,
    clientId: String,
    secretCiphertext: String,
    privateKeyCiphertext: String,
    tokenEndpointAuthMethod: String,
    scopes: { type: [String], default: undefined },
    claimMapping: Schema.Types.Mixed,
    allowedTenantIds: { type: [String], default: undefined },
    provisioning: String,
    linkByVerifiedEmail: Boolean,
    storeTokens: Boolean,
    enabled: Boolean,
    position: Number,
    createdAt: Date,
    updatedAt: Date,
  }, { ...options('connections'), timestamps: true });
  schema.index({ appId: 1, slug: 1 }, { unique: true });
  return schema;
}

function identityLinkSchema() {
  const schema = new Schema({
    appId: { type: String, required: true },
    id: { type: String, required: true },
    accountId: { type: String, required: true },
    connection: { type: String, required: true },
    issuer: { type: String, required: true },
    subject: { type: String, required: true },
    tokensCiphertext: String,
    createdAt: Date,
  }, options('identity_links'));
  schema.index({ appId: 1, id: 1 }, { unique: true });
  // One upstream identity is one account of the app.
  schema.index({ appId: 1, connection: 1, issuer: 1, subject: 1 }, { unique: true });
  schema.index({ appId: 1, accountId: 1 });
  return schema;
}

export function connectionModel(conn: Connection): Model<ConnectionRecord> {
  return (conn.models.UpstreamConnection ?? conn.model('UpstreamConnection', connectionSchema())) as unknown as Model<ConnectionRecord>;
}

export function identityLinkModel(conn: Connection): Model<IdentityLinkRecord> {
  return (conn.models.IdentityLink ?? conn.model('IdentityLink', identityLinkSchema())) as unknown as Model<IdentityLinkRecord>;
}

const withoutId = { _id: 0 } as const;
const orNone = <T>(doc: T | null): T | undefined => doc ?? undefined;

export class MongoConnectionRepository implements ConnectionRepository {
  constructor(private readonly model: Model<ConnectionRecord>) {}

  private key(appId: string, slug: string) {
    return { appId: text(appId), slug: text(slug) };
  }

  async create(connection: ConnectionRecord) {
    await mongoCall(() => this.model.insertOne(definedOnly(connection) as never, { timestamps: false }));
  }

  async find(appId: string, slug: string) {
    return orNone(await mongoCall(() => this.model.findOne(this.key(appId, slug)).select(withoutId).lean<ConnectionRecord>().exec()));
  }

  async list(appId: string) {
    const docs = await mongoCall(() => this.model.find({ appId: text(appId) }).select(withoutId).sort({ createdAt: 1, _id: 1 }).lean<ConnectionRecord[]>().exec());
    // Position first (absent last), then creation order, as the memory store sorts.
    return docs.sort((a, b) => (a.position ?? Number.MAX_SAFE_INTEGER) - (b.position ?? Number.MAX_SAFE_INTEGER));
  }

  async update(appId: string, slug: string, patch: Patch<ConnectionRecord>) {
    const removable: readonly string[] = REMOVABLE_CONNECTION_FIELDS;
    const fixed = new Set(['appId', 'slug', 'createdAt', 'updatedAt']);
    const entries = Object.entries(patch).filter(([k]) => !fixed.has(k));
    const $set = Object.fromEntries(entries.filter(([, v]) => v !== undefined).map(([k, v]) => [k, definedOnly(v)]));
    const $unset = Object.fromEntries(entries.filter(([k, v]) => v === undefined && removable.includes(k)).map(([k]) => [k, 1]));
    const update = { ...(Object.keys($set).length ? { $set } : {}), ...(Object.keys($unset).length ? { $unset } : {}) };
    if (!Object.keys(update).length) return this.find(appId, slug);
    return orNone(await mongoCall(() => this.model.findOneAndUpdate(this.key(appId, slug), update, { returnDocument: 'after' })
      .select(withoutId).lean<ConnectionRecord>().exec()));
  }

  async delete(appId: string, slug: string) {
    return (await mongoCall(() => this.model.deleteOne(this.key(appId, slug)).exec())).deletedCount > 0;
  }

  async deleteByApp(appId: string) {
    await mongoCall(() => this.model.deleteMany({ appId: text(appId) }).exec());
  }
}

export class MongoIdentityLinkRepository implements IdentityLinkRepository {
  constructor(private readonly model: Model<IdentityLinkRecord>) {}

  async create(link: IdentityLinkRecord) {
    await mongoCall(() => this.model.insertOne(definedOnly(link) as never));
  }

  async findByIdentity(appId: string, connection: string, issuer: string, subject: string) {
    return orNone(await mongoCall(() => this.model.findOne({ appId: text(appId), connection: text(connection), issuer: text(issuer), subject: text(subject) })
      .select(withoutId).lean<IdentityLinkRecord>().exec()));
  }

  async listByAccount(appId: string, accountId: string) {
    return mongoCall(() => this.model.find({ appId: text(appId), accountId: text(accountId) }).select(withoutId).sort({ createdAt: 1, _id: 1 })
      .lean<IdentityLinkRecord[]>().exec());
  }

  async setTokens(appId: string, id: string, tokensCiphertext: string) {
    await mongoCall(() => this.model.updateOne({ appId: text(appId), id: text(id) }, { $set: { tokensCiphertext: text(tokensCiphertext) } }).exec());
  }

  async delete(appId: string, accountId: string, id: string) {
    return (await mongoCall(() => this.model.deleteOne({ appId: text(appId), accountId: text(accountId), id: text(id) }).exec())).deletedCount > 0;
  }

  async deleteByAccount(appId: string, accountId: string) {
    await mongoCall(() => this.model.deleteMany({ appId: text(appId), accountId: text(accountId) }).exec());
  }

  async deleteByConnection(appId: string, connection: string) {
    await mongoCall(() => this.model.deleteMany({ appId: text(appId), connection: text(connection) }).exec());
  }

  async deleteByApp(appId: string) {
    await mongoCall(() => this.model.deleteMany({ appId: text(appId) }).exec());
  }
}
