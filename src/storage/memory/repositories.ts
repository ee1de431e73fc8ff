/**
 * In-process reference implementations of the durable repositories (see `../ports.ts` for the contract).
 * Each is a {@link Collection}: a Map of records plus the unique keys the contract requires.
 */
import { ConflictError } from '../../errors.js';
import type {
  AccountRecord, AccountRepository, AppKeysRecord, AppKeysRepository, AppRecord, AppRepository, AuditEvent,
  AuditRepository, ClientRecord, ClientRepository, InvitationRecord, InvitationRepository, MembershipRecord,
  OutboxMessage, OutboxRepository, PartnerRecord, PartnerRepository, Patch, TenantRecord, TenantRepository, AuditQuery,
} from '../ports.js';
import { REMOVABLE_PARTNER_FIELDS } from '../ports.js';
import { copy } from './clock-map.js';

type UniqueKey<T> = (record: T) => string | undefined;

/**
 * Records by primary key, with unique secondary keys enforced on insert and update. Each unique key has its own
 * Map (value → primary key), so uniqueness checks and lookups by a unique key (app slug, tenant slug) are O(1)
 * instead of a scan over every record.
 */
class Collection<T extends object> {
  private readonly byKey = new Map<string, T>();
  private readonly indexes: Array<{ name: string; of: UniqueKey<T>; keys: Map<string, string> }>;

  constructor(
    private readonly key: (record: T) => string,
    unique: Array<{ name: string; of: UniqueKey<T> }> = [],
  ) {
    this.indexes = unique.map((u) => ({ ...u, keys: new Map() }));
  }

  insert(record: T): void {
    const key = this.key(record);
    if (this.byKey.has(key)) throw new ConflictError('A record with this identifier already exists.');
    this.assertUnique(record, key);
    this.store(key, copy(record));
  }

  get(key: string): T | undefined {
    const found = this.byKey.get(key);
    return found ? copy(found) : undefined;
  }

  /** The record whose unique key `name` is `value`. */
  getByUnique(name: string, value: string): T | undefined {
    const key = this.indexes.find((i) => i.name === name)!.keys.get(value);
    return key === undefined ? undefined : this.get(key);
  }

  filter(predicate: (record: T) => boolean): T[] {
    return [...this.byKey.values()].filter(predicate).map((r) => copy(r));
  }

  update(key: string, apply: (record: T) => T): T | undefined {
    const current = this.byKey.get(key);
    if (!current) return undefined;
    const next = apply(copy(current));
    this.assertUnique(next, key);
    this.unindex(key, current);
    this.store(key, copy(next));
    return copy(next);
  }

  delete(key: string): boolean {
    const current = this.byKey.get(key);
    if (!current) return false;
    this.unindex(key, current);
    return this.byKey.delete(key);
  }

  deleteWhere(predicate: (record: T) => boolean): void {
    for (const [key, record] of this.byKey) if (predicate(record)) this.delete(key);
  }

  private store(key: string, record: T): void {
    this.byKey.set(key, record);
    for (const index of this.indexes) {
      const value = index.of(record);
      if (value !== undefined) index.keys.set(value, key);
    }
  }

  private unindex(key: string, record: T): void {
    for (const index of this.indexes) {
      const value = index.of(record);
      if (value !== undefined && index.keys.get(value) === key) index.keys.delete(value);
    }
  }

  private assertUnique(record: T, ownKey: string): void {
    for (const { name, of, keys } of this.indexes) {
      const value = of(record);
      if (value === undefined) continue;
      const holder = keys.get(value);
      if (holder !== undefined && holder !== ownKey) throw new ConflictError(`${name} is already taken.`);
    }
  }
}

const applyPatch = <T extends { updatedAt: Date }>(patch: Partial<T>) => (record: T): T => ({
  ...record,
  ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
  updatedAt: new Date(),
});

const byCreation = <T extends { createdAt: Date }>(a: T, b: T) => a.createdAt.getTime() - b.createdAt.getTime();

export class MemoryAppRepository implements AppRepository {
  private readonly apps = new Collection<AppRecord>((a) => a.id, [{ name: 'slug', of: (a) => a.slug }]);

  async create(app: AppRecord) { this.apps.insert(app); }
  async findById(id: string) { return this.apps.get(id); }
  async findBySlug(slug: string) { return this.apps.getByUnique('slug', slug); }
  async list() { return this.apps.filter(() => true).sort(byCreation); }
  async update(id: string, patch: Partial<Pick<AppRecord, 'name' | 'settings'>>) {
    return this.apps.update(id, (a) => ({ ...applyPatch<AppRecord>(patch)(a), version: a.version + 1 }));
  }
  async touch(id: string) { return this.update(id, {}); }
  async versions(ids: string[]) {
    const out = new Map<string, number>();
    for (const id of ids) {
      const app = this.apps.get(id);
      if (app) out.set(id, app.version);
    }
    return out;
  }
  async delete(id: string) { return this.apps.delete(id); }
}

export class MemoryAppKeysRepository implements AppKeysRepository {
  private readonly keys = new Map<string, AppKeysRecord>();
  async get(appId: string) { const k = this.keys.get(appId); return k ? copy(k) : undefined; }
  async put(keys: AppKeysRecord) { this.keys.set(keys.appId, copy(keys)); }
  async delete(appId: string) { this.keys.delete(appId); }
}

export class MemoryClientRepository implements ClientRepository {
  private readonly clients = new Collection<ClientRecord>((c) => `${c.appId}:${c.clientId}`);

  async create(client: ClientRecord) { this.clients.insert(client); }
  async find(appId: string, clientId: string) { return this.clients.get(`${appId}:${clientId}`); }
  async list(appId: string) { return this.clients.filter((c) => c.appId === appId).sort(byCreation); }
  async update(appId: string, clientId: string, patch: Patch<ClientRecord>) {
    return this.clients.update(`${appId}:${clientId}`, applyPatch<ClientRecord>(patch));
  }
  async delete(appId: string, clientId: string) { return this.clients.delete(`${appId}:${clientId}`); }
  async deleteByApp(appId: string) { this.clients.deleteWhere((c) => c.appId === appId); }
}

export class MemoryAccountRepository implements AccountRepository {
  private readonly accounts = new Collection<AccountRecord>((a) => `${a.appId}:${a.id}`, [
    { name: 'email', of: (a) => (a.uniqueEmail ? `${a.appId}:${a.uniqueEmail}` : undefined) },
  ]);

  /** `(partner, subject)` is unique within an app, like the MongoDB index. */
  private assertLinksFree(account: AccountRecord): void {
    for (const link of account.partnerLinks ?? []) {
      const holder = this.accounts.filter((a) => a.appId === account.appId && a.id !== account.id
        && (a.partnerLinks ?? []).some((l) => l.partner === link.partner && l.subject === link.subject));
      if (holder.length > 0) throw new ConflictError('partner subject is already taken.');
    }
  }

  async create(account: AccountRecord) {
    if (!this.accounts.get(`${account.appId}:${account.id}`)) this.assertLinksFree(account);
    this.accounts.insert(account);
  }
  async findById(appId: string, id: string) { return this.accounts.get(`${appId}:${id}`); }
  async findByPartnerSubject(appId: string, partner: string, subject: string) {
    return this.accounts.filter((a) => a.appId === appId && (a.partnerLinks ?? []).some((l) => l.partner === partner && l.subject === subject))[0];
  }
  async findByEmail(appId: string, email: string) {
    return this.accounts.filter((a) => a.appId === appId && a.email === email).sort(byCreation);
  }
  async findByPhone(appId: string, phone: string) {
    return this.accounts.filter((a) => a.appId === appId && a.phone === phone).sort(byCreation);
  }
  async list(appId: string, filter: { email?: string; limit?: number; after?: string } = {}) {
    let found = this.accounts
      .filter((a) => a.appId === appId && (filter.email === undefined || a.email === filter.email))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)); // byte order, as MongoDB sorts
    if (filter.after) found = found.filter((a) => a.id > filter.after!);
    return found.slice(0, filter.limit ?? found.length);
  }
  async update(appId: string, id: string, patch: Patch<AccountRecord>) {
    if (patch.partnerLinks) this.assertLinksFree({ ...(await this.findById(appId, id))!, partnerLinks: patch.partnerLinks });
    const result = this.accounts.update(`${appId}:${id}`, applyPatch<AccountRecord>(patch));
    // `uniqueEmail: undefined` in a patch means "remove"; applyPatch skips undefined, so clear it explicitly.
    if (result && 'uniqueEmail' in patch && patch.uniqueEmail === undefined) {
      return this.accounts.update(`${appId}:${id}`, (a) => { delete a.uniqueEmail; return a; });
    }
    return result;
  }
  async recordLogin(appId: string, id: string, at: Date) {
    this.accounts.update(`${appId}:${id}`, (a) => ({ ...a, loginCount: a.loginCount + 1, lastLoginAt: at }));
  }
  async delete(appId: string, id: string) { return this.accounts.delete(`${appId}:${id}`); }
  async deleteByApp(appId: string) { this.accounts.deleteWhere((a) => a.appId === appId); }
}

export class MemoryTenantRepository implements TenantRepository {
  private readonly tenants = new Collection<TenantRecord>((t) => `${t.appId}:${t.id}`, [
    { name: 'slug', of: (t) => `${t.appId}:${t.slug}` },
    { name: 'external_id', of: (t) => (t.externalId ? `${t.appId}:${t.externalId}` : undefined) },
  ]);
  private readonly members = new Collection<MembershipRecord>((m) => `${m.appId}:${m.tenantId}:${m.accountId}`);

  async create(tenant: TenantRecord) {
    this.assertDomainsFree(tenant.appId, tenant.id, tenant.domains);
    this.tenants.insert(tenant);
  }
  async findById(appId: string, id: string) { return this.tenants.get(`${appId}:${id}`); }
  async findByDomain(appId: string, domain: string) {
    return this.tenants.filter((t) => t.appId === appId && (t.domains ?? []).includes(domain))[0];
  }
  async findByConnection(appId: string, connection: string) {
    return this.tenants.filter((t) => t.appId === appId && t.connection === connection).sort(byCreation);
  }
  /** Email domains are unique per app (home realm discovery must name one tenant). */
  private assertDomainsFree(appId: string, id: string, domains: string[] | undefined) {
    if (!domains?.length) return;
    if (this.tenants.filter((t) => t.appId === appId && t.id !== id && (t.domains ?? []).some((d) => domains.includes(d))).length > 0) {
      throw new ConflictError('Another tenant of this app already has this domain.');
    }
  }
  async findBySlug(appId: string, slug: string) { return this.tenants.getByUnique('slug', `${appId}:${slug}`); }
  async findByExternalId(appId: string, externalId: string) {
    return this.tenants.filter((t) => t.appId === appId && t.externalId !== undefined && t.externalId === externalId)[0];
  }
  async findManyByIds(appId: string, ids: string[]) {
    const wanted = new Set(ids);
    return this.tenants.filter((t) => t.appId === appId && wanted.has(t.id)).sort(byCreation);
  }
  async list(appId: string) { return this.tenants.filter((t) => t.appId === appId).sort(byCreation); }
  async update(appId: string, id: string, patch: Patch<TenantRecord>) {
    this.assertDomainsFree(appId, id, patch.domains);
    return this.tenants.update(`${appId}:${id}`, applyPatch<TenantRecord>(patch));
  }
  async delete(appId: string, id: string) {
    this.members.deleteWhere((m) => m.appId === appId && m.tenantId === id);
    return this.tenants.delete(`${appId}:${id}`);
  }
  async deleteByApp(appId: string) {
    this.members.deleteWhere((m) => m.appId === appId);
    this.tenants.deleteWhere((t) => t.appId === appId);
  }
  async putMember(membership: MembershipRecord) {
    const key = `${membership.appId}:${membership.tenantId}:${membership.accountId}`;
    const updated = this.members.update(key, (m) => ({ ...m, roles: membership.roles, updatedAt: new Date() }));
    if (updated) return updated;
    this.members.insert(membership);
    return copy(membership);
  }
  async findMember(appId: string, tenantId: string, accountId: string) {
    return this.members.get(`${appId}:${tenantId}:${accountId}`);
  }
  async removeMember(appId: string, tenantId: string, accountId: string) {
    return this.members.delete(`${appId}:${tenantId}:${accountId}`);
  }
  async listMembers(appId: string, tenantId: string) {
    return this.members.filter((m) => m.appId === appId && m.tenantId === tenantId).sort(byCreation);
  }
  async listMembershipsOfAccount(appId: string, accountId: string) {
    return this.members.filter((m) => m.appId === appId && m.accountId === accountId).sort(byCreation);
  }
  async removeMembershipsOfAccount(appId: string, accountId: string) {
    this.members.deleteWhere((m) => m.appId === appId && m.accountId === accountId);
  }
}

export class MemoryInvitationRepository implements InvitationRepository {
  private readonly invitations = new Collection<InvitationRecord>((i) => `${i.appId}:${i.id}`);

  async create(invitation: InvitationRecord) { this.invitations.insert(invitation); }
  async findById(appId: string, id: string) { return this.invitations.get(`${appId}:${id}`); }
  async findByTokenHash(appId: string, tokenHash: string) {
    return this.invitations.filter((i) => i.appId === appId && i.tokenHash === tokenHash)[0];
  }
  async list(appId: string) { return this.invitations.filter((i) => i.appId === appId).sort(byCreation); }
  async update(appId: string, id: string, patch: Patch<InvitationRecord>) {
    return this.invitations.update(`${appId}:${id}`, applyPatch<InvitationRecord>(patch));
  }
  async deleteByApp(appId: string) { this.invitations.deleteWhere((i) => i.appId === appId); }
}

export class MemoryPartnerRepository implements PartnerRepository {
  private readonly partners = new Collection<PartnerRecord>((p) => `${p.appId}:${p.slug}`);

  async create(partner: PartnerRecord) { this.partners.insert(partner); }
  async find(appId: string, slug: string) { return this.partners.get(`${appId}:${slug}`); }
  async list(appId: string) { return this.partners.filter((p) => p.appId === appId).sort(byCreation); }
  async update(appId: string, slug: string, patch: Patch<PartnerRecord>) {
    const { slug: _slug, ...changes } = patch;
    return this.partners.update(`${appId}:${slug}`, (p) => {
      const next = applyPatch<PartnerRecord>(changes)(p);
      for (const key of REMOVABLE_PARTNER_FIELDS) if (key in changes && changes[key] === undefined) delete next[key];
      return next;
    });
  }
  async delete(appId: string, slug: string) { return this.partners.delete(`${appId}:${slug}`); }
  async deleteByApp(appId: string) { this.partners.deleteWhere((p) => p.appId === appId); }
}

export class MemoryOutboxRepository implements OutboxRepository {
  private readonly messages = new Collection<OutboxMessage>((m) => `${m.appId}:${m.id}`);

  async add(message: OutboxMessage) { this.messages.insert(message); }
  async list(appId: string, limit = 500) {
    const now = Date.now();
    this.messages.deleteWhere((m) => m.expiresAt.getTime() <= now);
    return this.messages.filter((m) => m.appId === appId).sort(byCreation).slice(-limit);
  }
  async update(appId: string, id: string, patch: Patch<OutboxMessage>) {
    this.messages.update(`${appId}:${id}`, (m) => ({ ...m, ...patch }));
  }
  async deleteByApp(appId: string) { this.messages.deleteWhere((m) => m.appId === appId); }
}

export class MemoryAuditRepository implements AuditRepository {
  private readonly events = new Collection<AuditEvent>((e) => `${e.appId}:${e.id}`);

  async add(event: AuditEvent) { this.events.insert(event); }
  async list(appId: string, filter: { accountId?: string; limit?: number } = {}) {
    return this.events
      .filter((e) => e.appId === appId && (filter.accountId === undefined || e.accountId === filter.accountId))
      .sort(byCreation)
      .slice(-(filter.limit ?? 200));
  }
  async query(appId: string, q: AuditQuery) {
    const now = Date.now();
    this.events.deleteWhere((e) => e.expiresAt !== undefined && e.expiresAt.getTime() <= now);
    return this.events.filter((e) => e.appId === appId && matchesAudit(e, q)).sort(newestAuditFirst).slice(0, Math.max(0, q.limit));
  }
  async deleteByApp(appId: string) { this.events.deleteWhere((e) => e.appId === appId); }
}

/** Newest first by `createdAt`, then by `id` (descending), the order the audit cursor walks. */
function newestAuditFirst(a: AuditEvent, b: AuditEvent): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function matchesAudit(e: AuditEvent, q: AuditQuery): boolean {
  const t = e.createdAt.getTime();
  return (q.typePrefix === undefined || e.type.startsWith(q.typePrefix))
    && (q.accountId === undefined || e.accountId === q.accountId)
    && (q.tenantId === undefined || e.tenantId === q.tenantId)
    && (q.ip === undefined || e.ip === q.ip)
    && (q.since === undefined || t >= q.since.getTime())
    && (q.until === undefined || t < q.until.getTime())
    && (q.before === undefined || t < q.before.createdAt.getTime() || (t === q.before.createdAt.getTime() && e.id < q.before.id));
}
