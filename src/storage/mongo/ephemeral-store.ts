/**
 * {@link EphemeralStore} on MongoDB, used when MONGODB_URI is set without REDIS_URL.
 *
 * Expiry has two halves: a TTL index on `expiresAt` deletes expired documents, but MongoDB's TTL monitor only runs
 * every 60 seconds, so every read also requires `expiresAt` to be in the future (or absent: a key set without TTL
 * never expires, as in the memory store). Writes that must not see an expired-but-not-yet-deleted document
 * (`setIfAbsent`, `increment`) remove it first.
 */
import mongoose from 'mongoose';
import type { Model } from 'mongoose';
import type { CounterRef, EphemeralStore, SecretTry } from '../ports.js';
import { claimThenIncrementInSteps, takeIfMatchesInSteps } from '../store-steps.js';
import { ConflictError } from '../../errors.js';
import type { EphemeralRecordDoc } from './models.js';
import { mongoCall } from './errors.js';
import { definedOnly, text } from './values.js';

const { trusted } = mongoose;

/** Concurrent first increments of one key can collide on `_id`; each collision is retried once more than this. */
const INCREMENT_ATTEMPTS = 3;

/** A TTL of 0 (or none) means "no expiry", as in the memory store. */
function expiryOf(ttlSeconds: number): Date | undefined {
  return ttlSeconds ? new Date(Date.now() + ttlSeconds * 1000) : undefined;
}

/** Filter clause matching documents that have not expired: `expiresAt` absent or in the future. */
function live(now: Date) {
  return trusted({ $not: { $lte: now } });
}

function isLive(doc: EphemeralRecordDoc, now = Date.now()): boolean {
  return doc.expiresAt === undefined || doc.expiresAt === null || doc.expiresAt.getTime() > now;
}

export class MongoEphemeralStore implements EphemeralStore {
  constructor(private readonly model: Model<EphemeralRecordDoc>) {}

  async get<T>(key: string): Promise<T | undefined> {
    const found = await this.findLive(key);
    return found?.value as T | undefined;
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    const record = this.record(key, value, ttlSeconds);
    await mongoCall(() => this.model.replaceOne({ _id: record._id }, record, { upsert: true }).exec());
  }

  /** Insert-or-fail on the `_id` unique index: of concurrent callers exactly one gets `true`. */
  async setIfAbsent(key: string, value: unknown, ttlSeconds: number): Promise<boolean> {
    await this.removeExpired(key);
    try {
      await mongoCall(() => this.model.insertOne(this.record(key, value, ttlSeconds)));
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  /** `findOneAndDelete` is atomic: of concurrent callers exactly one receives the document. */
  async take<T>(key: string): Promise<T | undefined> {
    const found = await mongoCall(() => this.model.findOneAndDelete({ _id: text(key) }).lean<EphemeralRecordDoc>().exec());
    return found && isLive(found) ? (found.value as T) : undefined;
  }

  async delete(key: string): Promise<void> {
    await mongoCall(() => this.model.deleteOne({ _id: text(key) }).exec());
  }

  /**
   * One atomic upsert: `$inc` the counter of a live document, or insert `value: 1` with the window's `expiresAt`
   * (`$setOnInsert`, so later increments keep the window). An expired document that the TTL monitor has not removed
   * yet does not match the filter; the upsert then collides with it on `_id`, and it is removed before retrying.
   */
  async increment(key: string, ttlSeconds: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.upsertIncrement(text(key), ttlSeconds);
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= INCREMENT_ATTEMPTS) throw error;
        await this.removeExpired(key);
      }
    }
  }

  /** Whole seconds left (rounded up), `Infinity` for a key without expiry, undefined when absent or expired. */
  async ttl(key: string): Promise<number | undefined> {
    const found = await this.findLive(key);
    if (!found) return undefined;
    if (!found.expiresAt) return Infinity;
    return Math.ceil((found.expiresAt.getTime() - Date.now()) / 1000);
  }

  /** In steps (MongoDB has no script of several documents without a transaction): the claim, then the counters. */
  claimThenIncrement(key: string, value: unknown, ttlSeconds: number, counters: ReadonlyArray<CounterRef>): Promise<number[] | undefined> {
    return claimThenIncrementInSteps(this, key, value, ttlSeconds, counters);
  }

  takeIfMatches<T>(key: string, tries: CounterRef, maxTries: number, field: string, expected: string): Promise<SecretTry<T>> {
    return takeIfMatchesInSteps<T>(this, key, tries, maxTries, field, expected);
  }

  private async upsertIncrement(id: string, ttlSeconds: number): Promise<number> {
    const expiresAt = expiryOf(ttlSeconds);
    const updated = await mongoCall(() => this.model
      .findOneAndUpdate(
        { _id: id, expiresAt: live(new Date()) },
        { $inc: { value: 1 }, ...(expiresAt ? { $setOnInsert: { expiresAt } } : {}) },
        { upsert: true, returnDocument: 'after' },
      )
      .lean<EphemeralRecordDoc>().exec());
    return Number(updated?.value);
  }

  private async findLive(key: string): Promise<EphemeralRecordDoc | undefined> {
    const found = await mongoCall(() => this.model
      .findOne({ _id: text(key), expiresAt: live(new Date()) }).lean<EphemeralRecordDoc>().exec());
    return found ?? undefined;
  }

  private async removeExpired(key: string): Promise<void> {
    await mongoCall(() => this.model.deleteOne({ _id: text(key), expiresAt: trusted({ $lte: new Date() }) }).exec());
  }

  private record(key: string, value: unknown, ttlSeconds: number): EphemeralRecordDoc {
    const expiresAt = expiryOf(ttlSeconds);
    return { _id: text(key), value: definedOnly(value), ...(expiresAt ? { expiresAt } : {}) };
  }
}
