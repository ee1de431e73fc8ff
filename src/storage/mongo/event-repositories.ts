/**
 * MongoDB implementations of the Admin API key, webhook and webhook delivery repositories, with the semantics of
 * `../memory/event-repositories.ts` and the rules of `./repositories.ts`: filters only from `text()` / numbers / fresh
 * Dates, our own operators wrapped in `trusted()`, lean reads without `_id`, errors through `mongoCall`.
 */
import mongoose from 'mongoose';
import type { Model, UpdateQuery } from 'mongoose';
import type {
  AdminKeyRecord, AdminKeyRepository, Patch, WebhookDelivery, WebhookDeliveryRepository, WebhookRecord, WebhookRepository,
} from '../ports.js';
import { mongoCall } from './errors.js';
import { definedOnly, text } from './values.js';

const { trusted } = mongoose;
const withoutId = () => ({ _id: 0 as const });
const KEEP_TIMESTAMPS = { timestamps: false } as const;
const IDENTITY = new Set(['_id', 'appId', 'id', 'createdAt', 'updatedAt']);
const dateOf = (value: Date) => new Date(Number(value.getTime()));

/** `$set` of the defined values, `$unset` of the undefined ones (the memory store's `{ ...record, ...patch }`). */
function toUpdate(patch: object): UpdateQuery<unknown> {
  const $set: Record<string, unknown> = {};
  const $unset: Record<string, 1> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (IDENTITY.has(key)) continue;
    if (value === undefined) $unset[key] = 1;
    else $set[key] = definedOnly(value);
  }
  return { ...(Object.keys($set).length ? { $set } : {}), ...(Object.keys($unset).length ? { $unset } : {}) };
}

export class MongoAdminKeyRepository implements AdminKeyRepository {
  constructor(private readonly model: Model<AdminKeyRecord>) {}

  async create(key: AdminKeyRecord) {
    await mongoCall(() => this.model.insertOne(definedOnly(key) as never, KEEP_TIMESTAMPS));
  }
  async findById(id: string) {
    return (await mongoCall(() => this.model.findOne({ id: text(id) }).select(withoutId()).lean<AdminKeyRecord>().exec())) ?? undefined;
  }
  async findBySecretHash(secretHash: string) {
    return (await mongoCall(() => this.model.findOne({ secretHash: text(secretHash) }).select(withoutId()).lean<AdminKeyRecord>().exec())) ?? undefined;
  }
  async list() {
    return mongoCall(() => this.model.find({}).select(withoutId()).sort({ createdAt: 1, _id: 1 }).lean<AdminKeyRecord[]>().exec());
  }
  async touch(id: string, at: Date) {
    await mongoCall(() => this.model.updateOne({ id: text(id) }, { $set: { lastUsedAt: dateOf(at) } }, KEEP_TIMESTAMPS).exec());
  }
  async delete(id: string) {
    return (await mongoCall(() => this.model.deleteOne({ id: text(id) }).exec())).deletedCount > 0;
  }
}

export class MongoWebhookRepository implements WebhookRepository {
  constructor(private readonly model: Model<WebhookRecord>) {}

  async create(webhook: WebhookRecord) {
    await mongoCall(() => this.model.insertOne(definedOnly(webhook) as never, KEEP_TIMESTAMPS));
  }
  async find(appId: string, id: string) {
    return (await mongoCall(() => this.model.findOne({ appId: text(appId), id: text(id) }).select(withoutId()).lean<WebhookRecord>().exec())) ?? undefined;
  }
  async list(appId: string) {
    return mongoCall(() => this.model.find({ appId: text(appId) }).select(withoutId()).sort({ createdAt: 1, _id: 1 }).lean<WebhookRecord[]>().exec());
  }
  async update(appId: string, id: string, patch: Patch<WebhookRecord>) {
    const updated = await mongoCall(() => this.model
      .findOneAndUpdate({ appId: text(appId), id: text(id) }, toUpdate(patch) as UpdateQuery<WebhookRecord>, { returnDocument: 'after' })
      .select(withoutId()).lean<WebhookRecord>().exec());
    return updated ?? undefined;
  }
  async delete(appId: string, id: string) {
    return (await mongoCall(() => this.model.deleteOne({ appId: text(appId), id: text(id) }).exec())).deletedCount > 0;
  }
  async deleteByApp(appId: string) { await mongoCall(() => this.model.deleteMany({ appId: text(appId) }).exec()); }
}

export class MongoWebhookDeliveryRepository implements WebhookDeliveryRepository {
  constructor(private readonly model: Model<WebhookDelivery>) {}

  /** One `insertMany`: the deliveries of an event are written together. */
  async addMany(deliveries: WebhookDelivery[]) {
    if (deliveries.length === 0) return;
    await mongoCall(() => this.model.insertMany(deliveries.map((d) => definedOnly(d)) as never[], { ordered: true }));
  }
  async find(appId: string, id: string) {
    return (await mongoCall(() => this.model.findOne({ appId: text(appId), id: text(id) }).select(withoutId()).lean<WebhookDelivery>().exec())) ?? undefined;
  }
  async list(appId: string, webhookId: string, page: { before?: { createdAt: Date; id: string }; limit: number }) {
    const limit = Math.max(0, Math.trunc(Number(page.limit)) || 0);
    if (limit === 0) return [];
    const filter: Record<string, unknown> = { appId: text(appId), webhookId: text(webhookId) };
    if (page.before) {
      const at = dateOf(page.before.createdAt);
      filter.$or = [{ createdAt: trusted({ $lt: at }) }, { createdAt: at, id: trusted({ $lt: text(page.before.id) }) }];
    }
    return mongoCall(() => this.model.find(filter).select(withoutId()).sort({ createdAt: -1, id: -1 }).limit(limit).lean<WebhookDelivery[]>().exec());
  }

  /**
   * One atomic `findOneAndUpdate` per delivery: the filter requires a free (or expired) lease, so of concurrent workers
   * exactly one matches each document.
   */
  async claim(owner: string, now: Date, leaseMs: number, limit: number) {
    const claimed: WebhookDelivery[] = [];
    const at = dateOf(now);
    const until = new Date(at.getTime() + Number(leaseMs));
    for (let n = 0; n < Math.max(0, Math.trunc(Number(limit))); n++) {
      const next = await mongoCall(() => this.model.findOneAndUpdate(
        { status: 'pending', nextAttemptAt: trusted({ $lte: at }), leaseExpiresAt: trusted({ $not: { $gt: at } }) },
        { $set: { leaseOwner: text(owner), leaseExpiresAt: until } },
        { sort: { nextAttemptAt: 1 }, returnDocument: 'after', timestamps: false },
      ).select(withoutId()).lean<WebhookDelivery>().exec());
      if (!next) break;
      claimed.push(next);
    }
    return claimed;
  }
  async settle(appId: string, id: string, owner: string, patch: Patch<WebhookDelivery>) {
    const update = toUpdate({ ...patch, leaseOwner: undefined, leaseExpiresAt: undefined });
    const result = await mongoCall(() => this.model.updateOne({ appId: text(appId), id: text(id), leaseOwner: text(owner) }, update as UpdateQuery<WebhookDelivery>).exec());
    return result.matchedCount > 0;
  }
  async update(appId: string, id: string, patch: Patch<WebhookDelivery>) {
    const update = toUpdate({ ...patch, leaseOwner: undefined, leaseExpiresAt: undefined });
    const updated = await mongoCall(() => this.model
      .findOneAndUpdate({ appId: text(appId), id: text(id) }, update as UpdateQuery<WebhookDelivery>, { returnDocument: 'after' })
      .select(withoutId()).lean<WebhookDelivery>().exec());
    return updated ?? undefined;
  }
  async countPending() { return mongoCall(() => this.model.countDocuments({ status: 'pending' }).exec()); }
  async deleteByWebhook(appId: string, webhookId: string) {
    await mongoCall(() => this.model.deleteMany({ appId: text(appId), webhookId: text(webhookId) }).exec());
  }
  async deleteByApp(appId: string) { await mongoCall(() => this.model.deleteMany({ appId: text(appId) }).exec()); }
}
