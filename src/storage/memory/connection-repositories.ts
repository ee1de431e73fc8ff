/** Upstream connections and identity links of the embedded store. Records are cloned in and out. */
import { ConflictError } from '../../errors.js';
import {
  REMOVABLE_CONNECTION_FIELDS, type ConnectionRecord, type ConnectionRepository, type IdentityLinkRecord,
  type IdentityLinkRepository, type Patch,
} from '../ports.js';

const clone = <T>(value: T): T => structuredClone(value);

/** Position first (absent last), then creation order: the order of the sign-in page's buttons. */
export function connectionOrder(a: ConnectionRecord, b: ConnectionRecord): number {
  const pa = a.position ?? Number.MAX_SAFE_INTEGER;
  const pb = b.position ?? Number.MAX_SAFE_INTEGER;
  return pa - pb || a.createdAt.getTime() - b.createdAt.getTime() || a.slug.localeCompare(b.slug);
}

export class MemoryConnectionRepository implements ConnectionRepository {
  private readonly byKey = new Map<string, ConnectionRecord>();

  async create(connection: ConnectionRecord) {
    const key = `${connection.appId}:${connection.slug}`;
    if (this.byKey.has(key)) throw new ConflictError('This app already has a connection with this slug.');
    this.byKey.set(key, clone(connection));
  }

  async find(appId: string, slug: string) {
    const found = this.byKey.get(`${appId}:${slug}`);
    return found ? clone(found) : undefined;
  }

  async list(appId: string) {
    return [...this.byKey.values()].filter((c) => c.appId === appId).sort(connectionOrder).map(clone);
  }

  async update(appId: string, slug: string, patch: Patch<ConnectionRecord>) {
    const current = this.byKey.get(`${appId}:${slug}`);
    if (!current) return undefined;
    const next: ConnectionRecord = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([k, v]) => v !== undefined && k !== 'slug')), updatedAt: new Date() };
    for (const field of REMOVABLE_CONNECTION_FIELDS) if (field in patch && patch[field] === undefined) delete next[field];
    this.byKey.set(`${appId}:${slug}`, clone(next));
    return clone(next);
  }

  async delete(appId: string, slug: string) {
    return this.byKey.delete(`${appId}:${slug}`);
  }

  async deleteByApp(appId: string) {
    for (const [key, c] of this.byKey) if (c.appId === appId) this.byKey.delete(key);
  }
}

export class MemoryIdentityLinkRepository implements IdentityLinkRepository {
  private readonly byId = new Map<string, IdentityLinkRecord>();

  private identity(l: Pick<IdentityLinkRecord, 'appId' | 'connection' | 'issuer' | 'subject'>): string {
    return JSON.stringify([l.appId, l.connection, l.issuer, l.subject]);
  }

  async create(link: IdentityLinkRecord) {
    const identity = this.identity(link);
    if ([...this.byId.values()].some((l) => this.identity(l) === identity) || this.byId.has(`${link.appId}:${link.id}`)) {
      throw new ConflictError('This identity is already linked.');
    }
    this.byId.set(`${link.appId}:${link.id}`, clone(link));
  }

  async findByIdentity(appId: string, connection: string, issuer: string, subject: string) {
    const identity = this.identity({ appId, connection, issuer, subject });
    const found = [...this.byId.values()].find((l) => this.identity(l) === identity);
    return found ? clone(found) : undefined;
  }

  async listByAccount(appId: string, accountId: string) {
    return [...this.byId.values()].filter((l) => l.appId === appId && l.accountId === accountId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(clone);
  }

  async setTokens(appId: string, id: string, tokensCiphertext: string) {
    const found = this.byId.get(`${appId}:${id}`);
    if (found) found.tokensCiphertext = tokensCiphertext;
  }

  async delete(appId: string, accountId: string, id: string) {
    const found = this.byId.get(`${appId}:${id}`);
    if (!found || found.accountId !== accountId) return false;
    return this.byId.delete(`${appId}:${id}`);
  }

  async deleteByAccount(appId: string, accountId: string) {
    for (const [key, l] of this.byId) if (l.appId === appId && l.accountId === accountId) this.byId.delete(key);
  }

  async deleteByConnection(appId: string, connection: string) {
    for (const [key, l] of this.byId) if (l.appId === appId && l.connection === connection) this.byId.delete(key);
  }

  async deleteByApp(appId: string) {
    for (const [key, l] of this.byId) if (l.appId === appId) this.byId.delete(key);
  }
}
