import type { Adapter, AdapterPayload } from 'oidc-provider';
import { ExpiringMap } from './clock-map.js';
import { ACCOUNT_INDEXED_OIDC_MODELS, GRANTABLE_OIDC_MODELS, type AccountIndexedModel, type OidcAccountIndex, type OidcRecordRef } from '../ports.js';
import { alreadyConsumed } from '../consume-conflict.js';
import { DURABLE_OIDC_MODELS } from '../split-oidc-adapter.js';

/** Default of MEMORY_STORE_MAX_RECORDS: about 50 MB of tokens at ~1 KB each. */
export const DEFAULT_MAX_RECORDS = 50_000;

export interface MemoryOidcStoreOptions {
  /** Records kept at most; past it the least recently written short-lived records are evicted. */
  maxRecords?: number;
  /** How often expired records are reclaimed (ms). */
  sweepEveryMs?: number;
}

/**
 * A stored record: the payload as JSON (written once per save, parsed per read, so no caller ever holds a
 * reference into the store and an idle record is one compact string), plus what must be cleaned up with it.
 */
interface StoredRecord {
  json: string;
  consumed?: number;
  /** uid / userCode index keys pointing at this record. */
  pointers?: string[];
  grantKey?: string;
  /** The account index entry (Session, Grant, RefreshToken with an accountId). */
  accountKey?: string;
}

const ACCOUNT_INDEXED: ReadonlySet<string> = new Set(ACCOUNT_INDEXED_OIDC_MODELS);

/**
 * In-process reference implementation of oidc-provider's Adapter contract. Records are keyed
 * `{appId}:{model}:{id}`, so two apps can never read each other's records; secondary keys (uid, userCode,
 * grantId) point at primary keys and expire with them.
 *
 * Bounded: expired records are reclaimed when read and by a sweep, and at most `maxRecords` are kept. Past the
 * cap the least recently written short-lived record (access tokens, codes, interactions, sessions — everything
 * but grants and refresh tokens) is evicted first, as a cache would, so sustained token traffic cannot grow the
 * process without bound; grants and refresh tokens go only when nothing short-lived is left. An evicted token is
 * simply unknown (invalid) afterwards.
 */
export class MemoryOidcStore {
  readonly maxRecords: number;
  /** Records evicted because of the cap (not counting expiry). */
  evicted = 0;
  private readonly shortLived: ExpiringMap<StoredRecord>;
  private readonly longLived: ExpiringMap<StoredRecord>;
  private readonly index: ExpiringMap<string>;
  private readonly grants: ExpiringMap<Set<string>>;
  /** `{appId}:account:{model}:{accountId}` → record keys: the account index (see `OidcAccountIndex`). */
  private readonly accounts: ExpiringMap<Set<string>>;

  constructor(options: MemoryOidcStoreOptions = {}) {
    this.maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
    const sweep = options.sweepEveryMs ?? 60_000;
    const cleanUp = (key: string, record: StoredRecord) => this.cleanUp(key, record);
    this.shortLived = new ExpiringMap(sweep, cleanUp);
    this.longLived = new ExpiringMap(sweep, cleanUp);
    this.index = new ExpiringMap(sweep);
    this.grants = new ExpiringMap(sweep);
    this.accounts = new ExpiringMap(sweep);
  }

  /** The account index over this store's records. */
  readonly accountIndex: OidcAccountIndex = {
    listByAccount: async (appId, model, accountId) => this.listByAccount(appId, model, accountId),
  };

  adapterFactory = (appId: string) => (model: string): Adapter =>
    new MemoryOidcAdapter(this, `${appId}:${model}`, `${appId}`, GRANTABLE_OIDC_MODELS.has(model), DURABLE_OIDC_MODELS.has(model), model);

  /** Records held now (including expired ones not reclaimed yet). */
  get size(): number {
    return this.shortLived.size + this.longLived.size;
  }

  /** Reclaims every expired record now (also runs every `sweepEveryMs`). */
  sweep(): void {
    this.shortLived.sweep();
    this.longLived.sweep();
    this.index.sweep();
    this.grants.sweep();
    this.accounts.sweep();
  }

  upsert(prefix: string, appPrefix: string, id: string, payload: AdapterPayload, expiresIn: number, grantable: boolean, durable: boolean): void {
    const key = `${prefix}:${id}`;
    const record: StoredRecord = { json: JSON.stringify(payload) };
    if (payload.uid) this.point(record, `${prefix}:uid:${payload.uid}`, key, expiresIn);
    if (payload.userCode) this.point(record, `${prefix}:userCode:${payload.userCode}`, key, expiresIn);
    if (payload.grantId && grantable) {
      const grantKey = `${appPrefix}:grant:${payload.grantId}`;
      const members = this.grants.get(grantKey) ?? new Set<string>();
      members.add(key);
      // The grant's key list lives as long as its longest-lived member.
      const remaining = this.grants.remainingMs(grantKey) ?? 0;
      this.grants.set(grantKey, members, Math.max(remaining / 1000, expiresIn || 0) || undefined);
      record.grantKey = grantKey;
    }
    const model = prefix.slice(appPrefix.length + 1);
    if (typeof payload.accountId === 'string' && ACCOUNT_INDEXED.has(model)) {
      record.accountKey = this.addTo(this.accounts, `${appPrefix}:account:${model}:${payload.accountId}`, key, expiresIn);
    }
    (durable ? this.longLived : this.shortLived).set(key, record, expiresIn);
    this.enforceCap();
  }

  find(key: string, durable: boolean): AdapterPayload | undefined {
    const found = (durable ? this.longLived : this.shortLived).get(key);
    if (!found) return undefined;
    const payload = JSON.parse(found.json) as AdapterPayload;
    if (found.consumed !== undefined) payload.consumed = found.consumed;
    return payload;
  }

  findBy(prefix: string, kind: 'uid' | 'userCode', value: string, durable: boolean): AdapterPayload | undefined {
    const key = this.index.get(`${prefix}:${kind}:${value}`);
    return key ? this.find(key, durable) : undefined;
  }

  /**
   * Claims the record: true for the first caller only. Check and mark happen in one synchronous step, so no other
   * request can interleave; a missing (expired, revoked, evicted) record cannot be claimed either.
   */
  consume(key: string, durable: boolean): boolean {
    const found = (durable ? this.longLived : this.shortLived).get(key);
    if (!found || found.consumed !== undefined) return false;
    found.consumed = Math.floor(Date.now() / 1000);
    return true;
  }

  destroy(key: string, durable: boolean): void {
    this.remove(durable ? this.longLived : this.shortLived, key);
  }

  revokeByGrantId(appPrefix: string, grantId: string): void {
    const grantKey = `${appPrefix}:grant:${grantId}`;
    for (const key of this.grants.get(grantKey) ?? []) {
      this.shortLived.delete(key);
      this.longLived.delete(key);
    }
    this.grants.delete(grantKey);
  }

  /** Reads the index entry's records; entries whose record is gone (or now belongs to another account) are dropped. */
  private listByAccount(appId: string, model: AccountIndexedModel, accountId: string): OidcRecordRef[] {
    const indexKey = `${appId}:account:${model}:${accountId}`;
    const members = this.accounts.get(indexKey);
    if (!members) return [];
    const durable = DURABLE_OIDC_MODELS.has(model);
    const recordPrefix = `${appId}:${model}:`;
    const found: OidcRecordRef[] = [];
    for (const key of [...members]) {
      const payload = this.find(key, durable);
      if (!payload || payload.accountId !== accountId) members.delete(key);
      else found.push({ id: key.slice(recordPrefix.length), payload });
    }
    if (members.size === 0) this.accounts.delete(indexKey);
    return found;
  }

  /** Adds `key` to the set at `setKey`, which lives as long as its longest-lived member. */
  private addTo(sets: ExpiringMap<Set<string>>, setKey: string, key: string, expiresIn: number): string {
    const members = sets.get(setKey) ?? new Set<string>();
    members.add(key);
    const remaining = sets.remainingMs(setKey) ?? 0;
    sets.set(setKey, members, remaining === Infinity || !expiresIn ? undefined : Math.max(remaining / 1000, expiresIn));
    return setKey;
  }

  close(): void {
    this.accounts.close();
    this.shortLived.close();
    this.longLived.close();
    this.index.close();
    this.grants.close();
  }

  private point(record: StoredRecord, pointer: string, key: string, expiresIn: number): void {
    this.index.set(pointer, key, expiresIn);
    (record.pointers ??= []).push(pointer);
  }

  private enforceCap(): void {
    while (this.size > this.maxRecords) {
      const from = this.shortLived.size > 0 ? this.shortLived : this.longLived;
      const oldest = from.oldestKey();
      if (oldest === undefined) return;
      this.remove(from, oldest);
      this.evicted += 1;
    }
  }

  private remove(map: ExpiringMap<StoredRecord>, key: string): void {
    const record = map.peek(key);
    if (!record) return;
    map.delete(key);
    this.cleanUp(key, record);
  }

  /** Drops the index entries of a record that is gone, so they do not outlive it in memory. */
  private cleanUp(key: string, record: StoredRecord): void {
    for (const pointer of record.pointers ?? []) {
      if (this.index.peek(pointer) === key) this.index.delete(pointer);
    }
    if (record.grantKey) {
      const members = this.grants.peek(record.grantKey);
      members?.delete(key);
      if (members && members.size === 0) this.grants.delete(record.grantKey);
    }
    if (record.accountKey) {
      const members = this.accounts.peek(record.accountKey);
      members?.delete(key);
      if (members && members.size === 0) this.accounts.delete(record.accountKey);
    }
  }
}

class MemoryOidcAdapter implements Adapter {
  constructor(
    private readonly store: MemoryOidcStore,
    private readonly prefix: string,
    private readonly appPrefix: string,
    private readonly grantable: boolean,
    private readonly durable: boolean,
    private readonly model: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    this.store.upsert(this.prefix, this.appPrefix, id, payload, expiresIn, this.grantable, this.durable);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.store.find(`${this.prefix}:${id}`, this.durable);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.store.findBy(this.prefix, 'uid', uid, this.durable);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.store.findBy(this.prefix, 'userCode', userCode, this.durable);
  }

  /** Fails with invalid_grant for every caller but the first (see `../consume-conflict.ts`). */
  async consume(id: string): Promise<void> {
    if (!this.store.consume(`${this.prefix}:${id}`, this.durable)) throw alreadyConsumed(this.model);
  }

  async destroy(id: string): Promise<void> {
    this.store.destroy(`${this.prefix}:${id}`, this.durable);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.store.revokeByGrantId(this.appPrefix, grantId);
  }
}
