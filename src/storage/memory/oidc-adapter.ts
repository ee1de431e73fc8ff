import type { Adapter, AdapterPayload } from 'oidc-provider';
import { ExpiringMap, copy } from './clock-map.js';
import { GRANTABLE_OIDC_MODELS } from '../ports.js';
import { alreadyConsumed } from '../consume-conflict.js';

/**
 * In-process reference implementation of oidc-provider's Adapter contract. Records are keyed
 * `{appId}:{model}:{id}`, so two apps can never read each other's records; secondary keys (uid, userCode,
 * grantId) point at primary keys and expire with them.
 */
export class MemoryOidcStore {
  readonly records = new ExpiringMap<AdapterPayload>();
  private readonly index = new ExpiringMap<string>();
  private readonly grants = new ExpiringMap<Set<string>>();

  adapterFactory = (appId: string) => (model: string): Adapter => new MemoryOidcAdapter(this, `${appId}:${model}`, `${appId}`, GRANTABLE_OIDC_MODELS.has(model), model);

  upsert(prefix: string, appPrefix: string, id: string, payload: AdapterPayload, expiresIn: number, grantable: boolean): void {
    const key = `${prefix}:${id}`;
    this.records.set(key, copy(payload), expiresIn);
    if (payload.uid) this.index.set(`${prefix}:uid:${payload.uid}`, key, expiresIn);
    if (payload.userCode) this.index.set(`${prefix}:userCode:${payload.userCode}`, key, expiresIn);
    if (payload.grantId && grantable) {
      const grantKey = `${appPrefix}:grant:${payload.grantId}`;
      const members = this.grants.get(grantKey) ?? new Set<string>();
      members.add(key);
      // The grant's key list lives as long as its longest-lived member.
      const remaining = this.grants.remainingMs(grantKey) ?? 0;
      this.grants.set(grantKey, members, Math.max(remaining / 1000, expiresIn || 0) || undefined);
    }
  }

  find(key: string): AdapterPayload | undefined {
    const found = this.records.get(key);
    return found ? copy(found) : undefined;
  }

  findBy(prefix: string, kind: 'uid' | 'userCode', value: string): AdapterPayload | undefined {
    const key = this.index.get(`${prefix}:${kind}:${value}`);
    return key ? this.find(key) : undefined;
  }

  /**
   * Claims the record: true for the first caller only. Check and mark happen in one synchronous step, so no other
   * request can interleave; a missing (expired, revoked) record cannot be claimed either.
   */
  consume(key: string): boolean {
    const found = this.records.get(key);
    if (!found || found.consumed) return false;
    found.consumed = Math.floor(Date.now() / 1000);
    return true;
  }

  destroy(key: string): void {
    this.records.delete(key);
  }

  revokeByGrantId(appPrefix: string, grantId: string): void {
    const grantKey = `${appPrefix}:grant:${grantId}`;
    for (const key of this.grants.get(grantKey) ?? []) this.records.delete(key);
    this.grants.delete(grantKey);
  }

  close(): void {
    this.records.close();
    this.index.close();
    this.grants.close();
  }
}

class MemoryOidcAdapter implements Adapter {
  constructor(
    private readonly store: MemoryOidcStore,
    private readonly prefix: string,
    private readonly appPrefix: string,
    private readonly grantable: boolean,
    private readonly model: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    this.store.upsert(this.prefix, this.appPrefix, id, payload, expiresIn, this.grantable);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.store.find(`${this.prefix}:${id}`);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.store.findBy(this.prefix, 'uid', uid);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.store.findBy(this.prefix, 'userCode', userCode);
  }

  /** Fails with invalid_grant for every caller but the first (see `../consume-conflict.ts`). */
  async consume(id: string): Promise<void> {
    if (!this.store.consume(`${this.prefix}:${id}`)) throw alreadyConsumed(this.model);
  }

  async destroy(id: string): Promise<void> {
    this.store.destroy(`${this.prefix}:${id}`);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.store.revokeByGrantId(this.appPrefix, grantId);
  }
}
