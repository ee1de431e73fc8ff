/**
 * Second factors in MongoDB (collection `factors`). Filters are built only from `text(x)` of the arguments, so no
 * caller object reaches a query; a recovery code is taken with one `findOneAndUpdate` (`$pull`), so of concurrent
 * redemptions of one code exactly one succeeds.
 */
import mongoose from 'mongoose';
import type { Connection, Model } from 'mongoose';
import type { FactorRecord, FactorRepository, Patch } from '../ports.js';
import { mongoCall } from './errors.js';
import { definedOnly, text } from './values.js';

const { Schema } = mongoose;

export function factorSchema() {
  const schema = new Schema({
    appId: { type: String, required: true },
    id: { type: String, required: true },
    accountId: { type: String, required: true },
    type: { type: String, required: true },
    name: String,
    secretCiphertext: String,
    codeHashes: { type: [String], default: undefined },
    credentialId: String,
    publicKey: String,
    counter: Number,
    transports: { type: [String], default: undefined },
    deviceType: String,
    backedUp: Boolean,
    createdAt: Date,
    updatedAt: Date,
    lastUsedAt: Date,
  }, { collection: 'factors', timestamps: true, versionKey: false, id: false, minimize: false, strict: true });
  schema.index({ appId: 1, id: 1 }, { unique: true });
  schema.index({ appId: 1, accountId: 1 });
  // A credential id is registered once per app (WebAuthn §7.1 step 22: refuse a credential id already in use).
  schema.index({ appId: 1, credentialId: 1 }, { unique: true, partialFilterExpression: { credentialId: { $type: 'string' } } });
  return schema;
}

export function factorModel(conn: Connection): Model<FactorRecord> {
  return (conn.models.Factor ?? conn.model('Factor', factorSchema())) as unknown as Model<FactorRecord>;
}

const withoutId = { _id: 0 } as const;
const IDENTITY = new Set(['_id', 'appId', 'id', 'accountId', 'type', 'createdAt', 'updatedAt']);

export class MongoFactorRepository implements FactorRepository {
  constructor(private readonly model: Model<FactorRecord>) {}

  private key(appId: string, id: string) {
    return { appId: text(appId), id: text(id) };
  }

  async create(factor: FactorRecord) {
    await mongoCall(() => this.model.insertOne(definedOnly(factor) as never, { timestamps: false }));
  }

  async findById(appId: string, id: string) {
    const found = await mongoCall(() => this.model.findOne(this.key(appId, id)).select(withoutId).lean<FactorRecord>().exec());
    return found ?? undefined;
  }

  async listByAccount(appId: string, accountId: string) {
    return mongoCall(() => this.model.find({ appId: text(appId), accountId: text(accountId) }).select(withoutId)
      .sort({ createdAt: 1, _id: 1 }).lean<FactorRecord[]>().exec());
  }

  async findByCredentialId(appId: string, credentialId: string) {
    const found = await mongoCall(() => this.model.findOne({ appId: text(appId), credentialId: text(credentialId) }).select(withoutId).lean<FactorRecord>().exec());
    return found ?? undefined;
  }

  async update(appId: string, id: string, patch: Patch<FactorRecord>) {
    const $set = Object.fromEntries(Object.entries(patch).filter(([k, v]) => v !== undefined && !IDENTITY.has(k)).map(([k, v]) => [k, definedOnly(v)]));
    const updated = await mongoCall(() => this.model.findOneAndUpdate(this.key(appId, id), { $set }, { returnDocument: 'after' })
      .select(withoutId).lean<FactorRecord>().exec());
    return updated ?? undefined;
  }

  async takeRecoveryCode(appId: string, id: string, codeHash: string, at: Date) {
    const hash = text(codeHash);
    const updated = await mongoCall(() => this.model.findOneAndUpdate(
      { ...this.key(appId, id), type: 'recovery_codes', codeHashes: hash },
      { $pull: { codeHashes: hash }, $set: { lastUsedAt: at } },
      { returnDocument: 'after' },
    ).select(withoutId).lean<FactorRecord>().exec());
    return updated ? (updated.codeHashes ?? []).length : undefined;
  }

  async delete(appId: string, id: string) {
    const result = await mongoCall(() => this.model.deleteOne(this.key(appId, id)).exec());
    return result.deletedCount > 0;
  }

  async deleteByAccount(appId: string, accountId: string) {
    const result = await mongoCall(() => this.model.deleteMany({ appId: text(appId), accountId: text(accountId) }).exec());
    return result.deletedCount;
  }

  async deleteByApp(appId: string) {
    await mongoCall(() => this.model.deleteMany({ appId: text(appId) }).exec());
  }
}
