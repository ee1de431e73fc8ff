/**
 * API resources in MongoDB (collection `resources`). Filters are built only from `text(x)` of the arguments, so no
 * caller object reaches a query. Role names may contain dots, which MongoDB field names handle badly, so
 * `roleScopes` is stored as a list of `{role, scopes}` pairs and turned back into a map on read.
 */
import mongoose from 'mongoose';
import type { Connection, Model } from 'mongoose';
import { REMOVABLE_RESOURCE_FIELDS, type Patch, type ResourceRecord, type ResourceRepository } from '../ports.js';
import { mongoCall } from './errors.js';
import { definedOnly, text } from './values.js';

const { Schema } = mongoose;

/** The stored shape: a record whose `roleScopes` map is a list of pairs. */
export type ResourceDoc = Omit<ResourceRecord, 'roleScopes'> & { roleScopes?: Array<{ role: string; scopes: string[] }> };

export function resourceSchema() {
  const schema = new Schema({
    appId: { type: String, required: true },
    id: { type: String, required: true },
    identifier: { type: String, required: true },
    name: String,
    scopes: { type: [{ _id: false, value: { type: String, required: true }, description: String }], default: undefined },
    accessTokenFormat: String,
    accessTokenTtlSeconds: Number,
    allowedClients: { type: [String], default: undefined },
    roleScopes: { type: [{ _id: false, role: { type: String, required: true }, scopes: [String] }], default: undefined },
    requireDpop: Boolean,
    isDefault: Boolean,
    createdAt: Date,
    updatedAt: Date,
  }, { collection: 'resources', timestamps: true, versionKey: false, id: false, minimize: false, strict: true });
  schema.index({ appId: 1, id: 1 }, { unique: true });
  // RFC 8707 §2: the identifier names the resource; two resources of one app never share one.
  schema.index({ appId: 1, identifier: 1 }, { unique: true });
  return schema;
}

export function resourceModel(conn: Connection): Model<ResourceDoc> {
  return (conn.models.Resource ?? conn.model('Resource', resourceSchema())) as unknown as Model<ResourceDoc>;
}

const withoutId = { _id: 0 } as const;
const IDENTITY = new Set(['_id', 'appId', 'id', 'createdAt', 'updatedAt']);

function toDoc(record: Partial<ResourceRecord>): Partial<ResourceDoc> {
  const { roleScopes, ...rest } = record;
  return { ...rest, ...(roleScopes ? { roleScopes: Object.entries(roleScopes).map(([role, scopes]) => ({ role, scopes })) } : {}) };
}

function toRecord(doc: ResourceDoc | null): ResourceRecord | undefined {
  if (!doc) return undefined;
  const { roleScopes, ...rest } = doc;
  return { ...rest, ...(roleScopes ? { roleScopes: Object.fromEntries(roleScopes.map((p) => [p.role, p.scopes])) } : {}) };
}

export class MongoResourceRepository implements ResourceRepository {
  constructor(private readonly model: Model<ResourceDoc>) {}

  private key(appId: string, id: string) {
    return { appId: text(appId), id: text(id) };
  }

  async create(resource: ResourceRecord) {
    await mongoCall(() => this.model.insertOne(definedOnly(toDoc(resource)) as never, { timestamps: false }));
  }

  async find(appId: string, id: string) {
    return toRecord(await mongoCall(() => this.model.findOne(this.key(appId, id)).select(withoutId).lean<ResourceDoc>().exec()));
  }

  async findByIdentifier(appId: string, identifier: string) {
    return toRecord(await mongoCall(() => this.model.findOne({ appId: text(appId), identifier: text(identifier) }).select(withoutId).lean<ResourceDoc>().exec()));
  }

  async list(appId: string) {
    const docs = await mongoCall(() => this.model.find({ appId: text(appId) }).select(withoutId).sort({ createdAt: 1, _id: 1 }).lean<ResourceDoc[]>().exec());
    return docs.map((d) => toRecord(d)!);
  }

  async update(appId: string, id: string, patch: Patch<ResourceRecord>) {
    const removable: readonly string[] = REMOVABLE_RESOURCE_FIELDS;
    const changes = Object.entries(toDoc(patch as Partial<ResourceRecord>)).filter(([k]) => !IDENTITY.has(k));
    const $set = Object.fromEntries(changes.filter(([, v]) => v !== undefined).map(([k, v]) => [k, definedOnly(v)]));
    const $unset = Object.fromEntries(Object.entries(patch).filter(([k, v]) => v === undefined && removable.includes(k)).map(([k]) => [k, 1]));
    const update = { ...(Object.keys($set).length ? { $set } : {}), ...(Object.keys($unset).length ? { $unset } : {}) };
    // MongoDB refuses an empty `$set`: a patch that changes nothing is a read.
    if (!Object.keys(update).length) return this.find(appId, id);
    const updated = await mongoCall(() => this.model.findOneAndUpdate(this.key(appId, id), update, { returnDocument: 'after' })
      .select(withoutId).lean<ResourceDoc>().exec());
    return toRecord(updated);
  }

  async delete(appId: string, id: string) {
    const result = await mongoCall(() => this.model.deleteOne(this.key(appId, id)).exec());
    return result.deletedCount > 0;
  }

  async deleteByApp(appId: string) {
    await mongoCall(() => this.model.deleteMany({ appId: text(appId) }).exec());
  }
}
