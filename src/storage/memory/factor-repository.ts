/** Second factors of the embedded store. Records are cloned in and out, like every memory repository. */
import { ConflictError } from '../../errors.js';
import type { FactorRecord, FactorRepository, Patch } from '../ports.js';

const clone = <T>(value: T): T => structuredClone(value);

export class MemoryFactorRepository implements FactorRepository {
  private readonly byKey = new Map<string, FactorRecord>();

  private key(appId: string, id: string): string {
    return `${appId}:${id}`;
  }

  async create(factor: FactorRecord) {
    const key = this.key(factor.appId, factor.id);
    if (this.byKey.has(key)) throw new ConflictError('A record with this identifier already exists.');
    if (factor.credentialId && (await this.findByCredentialId(factor.appId, factor.credentialId))) {
      throw new ConflictError('This passkey is already registered.');
    }
    this.byKey.set(key, clone(factor));
  }

  async findById(appId: string, id: string) {
    const found = this.byKey.get(this.key(appId, id));
    return found ? clone(found) : undefined;
  }

  async listByAccount(appId: string, accountId: string) {
    return [...this.byKey.values()].filter((f) => f.appId === appId && f.accountId === accountId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(clone);
  }

  async findByCredentialId(appId: string, credentialId: string) {
    const found = [...this.byKey.values()].find((f) => f.appId === appId && f.credentialId === credentialId);
    return found ? clone(found) : undefined;
  }

  async update(appId: string, id: string, patch: Patch<FactorRecord>) {
    const current = this.byKey.get(this.key(appId, id));
    if (!current) return undefined;
    const next: FactorRecord = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)), updatedAt: new Date() };
    this.byKey.set(this.key(appId, id), clone(next));
    return clone(next);
  }

  async takeRecoveryCode(appId: string, id: string, codeHash: string, at: Date) {
    // Synchronous between the read and the write: of concurrent callers exactly one removes the hash.
    const current = this.byKey.get(this.key(appId, id));
    if (!current || current.type !== 'recovery_codes' || !current.codeHashes?.includes(codeHash)) return undefined;
    current.codeHashes = current.codeHashes.filter((h) => h !== codeHash);
    current.lastUsedAt = at;
    current.updatedAt = at;
    return current.codeHashes.length;
  }

  async delete(appId: string, id: string) {
    return this.byKey.delete(this.key(appId, id));
  }

  async deleteByAccount(appId: string, accountId: string) {
    let count = 0;
    for (const [key, f] of this.byKey) {
      if (f.appId === appId && f.accountId === accountId) {
        this.byKey.delete(key);
        count += 1;
      }
    }
    return count;
  }

  async deleteByApp(appId: string) {
    for (const [key, f] of this.byKey) if (f.appId === appId) this.byKey.delete(key);
  }
}
