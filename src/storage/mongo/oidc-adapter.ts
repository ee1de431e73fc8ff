/**
 * oidc-provider's Adapter contract on MongoDB, with the semantics of `../memory/oidc-adapter.ts`.
 *
 * All apps and models share one collection. A record's `_id` is `{appId}:{model}:{id}` and every secondary lookup
 * (`uid`, `userCode`, `grantId`) filters on `appId` too, so no app can read or revoke another app's records.
 * Expiry is a TTL index on `expiresAt` plus an `expiresAt` check on every read (the TTL monitor runs only every
 * 60 seconds). The payload is stored as JSON text (see `OidcRecordDoc.payload` for why); `consume()` sets a separate
 * `consumed` field atomically, merged into the payload when read.
 */
import mongoose from 'mongoose';
import type { Model } from 'mongoose';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import {
  ACCOUNT_INDEXED_OIDC_MODELS, GRANTABLE_OIDC_MODELS, type OidcAccountIndex, type OidcAdapterFactory,
} from '../ports.js';
import type { OidcRecordDoc } from './models.js';
import { mongoCall } from './errors.js';
import { text } from './values.js';
import { alreadyConsumed } from '../consume-conflict.js';

const { trusted } = mongoose;

/** Only what a read needs: the payload and the consumption mark. */
const PAYLOAD_FIELDS = { payload: 1, consumed: 1 } as const;

/** Filter clause matching records that have not expired: `expiresAt` absent or in the future. */
function notExpired() {
  return trusted({ $not: { $lte: new Date() } });
}

function decode(doc: Pick<OidcRecordDoc, 'payload' | 'consumed'> | null): AdapterPayload | undefined {
  if (!doc) return undefined;
  const payload = JSON.parse(doc.payload) as AdapterPayload;
  if (typeof doc.consumed === 'number') payload.consumed = doc.consumed;
  return payload;
}

/** The stored form of a secondary key: present only when the payload has a (truthy) value for it. */
function lookupField(name: 'uid' | 'userCode' | 'grantId' | 'accountId', value: unknown): Partial<OidcRecordDoc> {
  return value ? { [name]: text(value) } : {};
}

/** Holds the collection's model; `adapterFactory(appId)(model)` is what the provider factory passes to oidc-provider. */
export class MongoOidcStore {
  constructor(private readonly model: Model<OidcRecordDoc>) {}

  adapterFactory: OidcAdapterFactory = (appId: string) => (model: string): Adapter =>
    new MongoOidcAdapter(this.model, text(appId), text(model));

  /** The account index: the `accountId` field of Session, Grant and RefreshToken records, indexed with app and model. */
  readonly accountIndex: OidcAccountIndex = {
    listByAccount: async (appId, model, accountId) => {
      const app = text(appId);
      const prefix = `${app}:${text(model)}:`;
      const docs = await mongoCall(() => this.model
        .find({ appId: app, model: text(model), accountId: text(accountId), expiresAt: notExpired() })
        .select({ _id: 1, ...PAYLOAD_FIELDS })
        .lean<Array<Pick<OidcRecordDoc, '_id' | 'payload' | 'consumed'>>>().exec());
      return docs.map((doc) => ({ id: doc._id.slice(prefix.length), payload: decode(doc)! }));
    },
  };
}

const ACCOUNT_INDEXED: ReadonlySet<string> = new Set(ACCOUNT_INDEXED_OIDC_MODELS);

class MongoOidcAdapter implements Adapter {
  constructor(
    private readonly records: Model<OidcRecordDoc>,
    private readonly appId: string,
    private readonly modelName: string,
  ) {}

  private key(id: string): string {
    return `${this.appId}:${this.modelName}:${text(id)}`;
  }

  /** Replaces the whole record, so a re-upsert also clears an earlier `consumed` mark and expiry. */
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const record: OidcRecordDoc = {
      _id: this.key(id),
      appId: this.appId,
      model: this.modelName,
      payload: JSON.stringify(payload),
      ...lookupField('uid', payload.uid),
      ...lookupField('userCode', payload.userCode),
      // Only tokens are found by grant: revokeByGrantId must not delete an interaction in progress.
      ...lookupField('grantId', GRANTABLE_OIDC_MODELS.has(this.modelName) ? payload.grantId : undefined),
      ...lookupField('accountId', ACCOUNT_INDEXED.has(this.modelName) ? payload.accountId : undefined),
      ...(expiresIn ? { expiresAt: new Date(Date.now() + expiresIn * 1000) } : {}),
    };
    await mongoCall(() => this.records.replaceOne({ _id: record._id }, record, { upsert: true }).exec());
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.findOne({ _id: this.key(id), expiresAt: notExpired() });
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findOne({ appId: this.appId, model: this.modelName, uid: text(uid), expiresAt: notExpired() });
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findOne({ appId: this.appId, model: this.modelName, userCode: text(userCode), expiresAt: notExpired() });
  }

  /**
   * An atomic claim: a single-document `$set` filtered on `consumed` being absent, so of N parallel calls exactly
   * one matches; the others (and a call for a missing or expired record) fail with invalid_grant.
   */
  async consume(id: string): Promise<void> {
    const result = await mongoCall(() => this.records
      .updateOne(
        { _id: this.key(id), expiresAt: notExpired(), consumed: trusted({ $exists: false }) },
        { $set: { consumed: Math.floor(Date.now() / 1000) } },
      )
      .exec());
    if (result.modifiedCount !== 1) throw alreadyConsumed(this.modelName);
  }

  async destroy(id: string): Promise<void> {
    await mongoCall(() => this.records.deleteOne({ _id: this.key(id) }).exec());
  }

  /** Every record of this app carrying the grant, whatever its model (tokens, codes, the grant itself). */
  async revokeByGrantId(grantId: string): Promise<void> {
    await mongoCall(() => this.records.deleteMany({ appId: this.appId, grantId: text(grantId) }).exec());
  }

  private async findOne(filter: Record<string, unknown>): Promise<AdapterPayload | undefined> {
    const found = await mongoCall(() => this.records.findOne(filter).select(PAYLOAD_FIELDS)
      .lean<Pick<OidcRecordDoc, 'payload' | 'consumed'>>().exec());
    return decode(found);
  }
}
