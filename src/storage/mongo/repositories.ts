/**
 * MongoDB implementations of the durable repositories, with exactly the semantics of `../memory/repositories.ts`
 * (see `../ports.ts`; both are checked by `test/storage/contracts/repositories.contract.ts`).
 *
 * Rules every method follows:
 * - Filters are built only from `String(x)` / `Number(x)` of the arguments, never from caller objects, so a value like
 *   `{ $gt: '' }` can only ever be compared as the text "[object Object]". Operators we write ourselves are wrapped in
 *   `mongoose.trusted()` because the connection sanitizes filters.
 * - Reads use `.lean()` with `_id` projected away: plain objects, already shaped like the records, already copies.
 * - Writes strip `undefined` first (`definedOnly`): the driver would otherwise store it as `null`.
 * - Errors go through `mongoCall`: duplicate key → `ConflictError`, unreachable server → `ServiceUnavailableError`.
 * - Lists sort by `createdAt` then `_id` (insertion order), matching the memory store's stable sort.
 */
import mongoose from 'mongoose';
import type { Model, UpdateQuery } from 'mongoose';
import type {
  AccountRecord, AccountRepository, AppKeysRecord, AppKeysRepository, AppRecord, AppRepository, AuditEvent,
  AuditRepository, ClientRecord, ClientRepository, InvitationRecord, InvitationRepository, MembershipRecord,
  OutboxMessage, OutboxRepository, PartnerRecord, PartnerRepository, Patch, TenantRecord, TenantRepository, AuditQuery,
} from '../ports.js';
import { REMOVABLE_PARTNER_FIELDS } from '../ports.js';
import { ConflictError } from '../../errors.js';
import { mongoCall } from './errors.js';
import { definedOnly, text } from './values.js';

const { trusted } = mongoose;

type Filter = Record<string, unknown>;

/** Projections and sorts are built per call: mongoose and the driver receive objects nobody else holds. */
const withoutId = () => ({ _id: 0 as const });
const oldestFirst = () => ({ createdAt: 1 as const, _id: 1 as const });
const newestFirst = () => ({ createdAt: -1 as const, _id: -1 as const });
/**
 * Writes that must not touch timestamps: creates keep the caller's `createdAt`/`updatedAt` (as the memory store
 * does), and a login or an outbox status change is not an edit.
 */
const KEEP_TIMESTAMPS = { timestamps: false } as const;

/** Fields a patch may never change: they identify the record (or are maintained by the repository). */
const IDENTITY = ['_id', 'appId', 'id', 'createdAt', 'updatedAt'] as const;

/**
 * Turns a patch into `$set` (defined values) and `$unset` (undefined values for which `unsetsWhenUndefined` says
 * so). Identity fields and `extraOmitted` are ignored, as are undefined values the memory store would skip.
 */
function toUpdate(
  patch: object,
  extraOmitted: readonly string[] = [],
  unsetsWhenUndefined: (key: string) => boolean = () => false,
): UpdateQuery<unknown> {
  const $set: Record<string, unknown> = {};
  const $unset: Record<string, 1> = {};
  for (const [key, value] of Object.entries(patch)) {
    if ((IDENTITY as readonly string[]).includes(key) || extraOmitted.includes(key)) continue;
    if (value !== undefined) $set[key] = definedOnly(value);
    else if (unsetsWhenUndefined(key)) $unset[key] = 1;
  }
  return {
    ...(Object.keys($set).length > 0 ? { $set } : {}),
    ...(Object.keys($unset).length > 0 ? { $unset } : {}),
  };
}

/**
 * A limit as `Array.prototype.slice` reads it (truncated toward zero, NaN as 0), or undefined when it cannot be a
 * database limit (absent, infinite): callers then read everything and slice like the memory store does.
 */
function integerLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  const value = Math.trunc(Number(limit));
  if (Number.isNaN(value)) return 0;
  return Number.isFinite(value) ? value : undefined;
}

function isEmptyUpdate(update: UpdateQuery<unknown>): boolean {
  return Object.keys(update).length === 0;
}

/** Common lean reads and writes of one model; repositories compose these with their own filters. */
class Records<T> {
  constructor(private readonly model: Model<T>) {}

  async insert(record: T): Promise<void> {
    await mongoCall(() => this.model.insertOne(definedOnly(record) as Parameters<Model<T>['insertOne']>[0], KEEP_TIMESTAMPS));
  }

  async findOne(filter: Filter): Promise<T | undefined> {
    const found = await mongoCall(() => this.model.findOne(filter).select(withoutId()).lean<T>().exec());
    return (found as T | null) ?? undefined;
  }

  /** Matching records, oldest first. */
  async findAll(filter: Filter): Promise<T[]> {
    return mongoCall(() => this.model.find(filter).select(withoutId()).sort(oldestFirst()).lean<T[]>().exec());
  }

  /**
   * The last `limit` matching records, oldest first, like the memory store's `.slice(-limit)`: a positive limit keeps
   * the newest `limit`; zero keeps all.
   */
  async findLast(filter: Filter, limit: number): Promise<T[]> {
    const count = integerLimit(limit);
    if (count !== undefined && count > 0) {
      const newest = await mongoCall(() => this.model.find(filter).select(withoutId()).sort(newestFirst()).limit(count)
        .lean<T[]>().exec());
      return newest.reverse();
    }
    return (await this.findAll(filter)).slice(-limit);
  }

  /** Applies the update (refreshing `updatedAt` through the schema's timestamps) and returns the new record. */
  async updateOne(filter: Filter, update: UpdateQuery<unknown>): Promise<T | undefined> {
    const updated = await mongoCall(() => this.model
      .findOneAndUpdate(filter, update as UpdateQuery<T>, { returnDocument: 'after' })
      .select(withoutId()).lean<T>().exec());
    return (updated as T | null) ?? undefined;
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    const result = await mongoCall(() => this.model.deleteOne(filter).exec());
    return result.deletedCount > 0;
  }

  async deleteMany(filter: Filter): Promise<void> {
    await mongoCall(() => this.model.deleteMany(filter).exec());
  }
}

export class MongoAppRepository implements AppRepository {
  private readonly apps: Records<AppRecord>;

  constructor(private readonly model: Model<AppRecord>) {
    this.apps = new Records(model);
  }

  async create(app: AppRecord) { await this.apps.insert(app); }
  async findById(id: string) { return this.apps.findOne({ id: text(id) }); }
  async findBySlug(slug: string) { return this.apps.findOne({ slug: text(slug) }); }
  async list() { return this.apps.findAll({}); }

  /** `$inc` makes concurrent updates each bump `version`, so no provider rebuild is missed. */
  async update(id: string, patch: Partial<Pick<AppRecord, 'name' | 'settings'>>) {
    return this.apps.updateOne({ id: text(id) }, { ...toUpdate(patch, ['version']), $inc: { version: 1 } });
  }

  async touch(id: string) { return this.update(id, {}); }

  async versions(ids: string[]) {
    const found = await mongoCall(() => this.model
      .find({ id: trusted({ $in: ids.map(text) }) })
      .select({ _id: 0, id: 1, version: 1 }).lean<Array<Pick<AppRecord, 'id' | 'version'>>>().exec());
    return new Map(found.map((app) => [app.id, app.version]));
  }

  async delete(id: string) { return this.apps.deleteOne({ id: text(id) }); }
}

export class MongoAppKeysRepository implements AppKeysRepository {
  private readonly keys: Records<AppKeysRecord>;

  constructor(private readonly model: Model<AppKeysRecord>) {
    this.keys = new Records(model);
  }

  async get(appId: string) { return this.keys.findOne({ appId: text(appId) }); }

  /** Replaces the app's keys (or creates them): the record is always written whole. */
  async put(keys: AppKeysRecord) {
    const record = { ...definedOnly(keys), appId: text(keys.appId) };
    await mongoCall(() => this.model.replaceOne({ appId: record.appId }, record, { upsert: true, ...KEEP_TIMESTAMPS }).exec());
  }

  async delete(appId: string) { await this.keys.deleteOne({ appId: text(appId) }); }
}

export class MongoClientRepository implements ClientRepository {
  private readonly clients: Records<ClientRecord>;

  constructor(model: Model<ClientRecord>) {
    this.clients = new Records(model);
  }

  private key(appId: string, clientId: string): Filter {
    return { appId: text(appId), clientId: text(clientId) };
  }

  async create(client: ClientRecord) { await this.clients.insert(client); }
  async find(appId: string, clientId: string) { return this.clients.findOne(this.key(appId, clientId)); }
  async list(appId: string) { return this.clients.findAll({ appId: text(appId) }); }
  async update(appId: string, clientId: string, patch: Patch<ClientRecord>) {
    return this.clients.updateOne(this.key(appId, clientId), toUpdate(patch, ['clientId']));
  }
  async delete(appId: string, clientId: string) { return this.clients.deleteOne(this.key(appId, clientId)); }
  async deleteByApp(appId: string) { await this.clients.deleteMany({ appId: text(appId) }); }
}

export class MongoAccountRepository implements AccountRepository {
  private readonly accounts: Records<AccountRecord>;

  constructor(private readonly model: Model<AccountRecord>) {
    this.accounts = new Records(model);
  }

  private key(appId: string, id: string): Filter {
    return { appId: text(appId), id: text(id) };
  }

  async create(account: AccountRecord) { await this.accounts.insert(account); }
  async findById(appId: string, id: string) { return this.accounts.findOne(this.key(appId, id)); }
  async findByEmail(appId: string, email: string) { return this.accounts.findAll({ appId: text(appId), email: text(email) }); }
  async findByPhone(appId: string, phone: string) { return this.accounts.findAll({ appId: text(appId), phone: text(phone) }); }
  /** `$elemMatch` we write ourselves, over two strings: the same link entry must hold both. */
  async findByPartnerSubject(appId: string, partner: string, subject: string) {
    return this.accounts.findOne({ appId: text(appId), partnerLinks: trusted({ $elemMatch: { partner: text(partner), subject: text(subject) } }) });
  }

  /** Ordered by `id` so `after` (the last id of the previous page) pages through them. */
  async list(appId: string, filter: { email?: string; limit?: number; after?: string } = {}) {
    const query: Filter = { appId: text(appId) };
    if (filter.email !== undefined) query.email = text(filter.email);
    if (filter.after) query.id = trusted({ $gt: text(filter.after) });
    const limit = integerLimit(filter.limit);
    if (limit === 0) return [];
    const found = await mongoCall(() => {
      const cursor = this.model.find(query).select(withoutId()).sort({ id: 1 });
      if (limit !== undefined && limit > 0) cursor.limit(limit);
      return cursor.lean<AccountRecord[]>().exec();
    });
    // Negative limits drop from the end, as `slice(0, limit)` does in the memory store.
    return limit !== undefined && limit < 0 ? found.slice(0, limit) : found;
  }

  /** `uniqueEmail: undefined` in a patch removes it (the account leaves the one-account-per-email index). */
  async update(appId: string, id: string, patch: Patch<AccountRecord>) {
    return this.accounts.updateOne(this.key(appId, id), toUpdate(patch, [], (key) => key === 'uniqueEmail'));
  }

  /** One atomic update: concurrent sign-ins each count. Does not touch `updatedAt` (a login is not an edit). */
  async recordLogin(appId: string, id: string, at: Date) {
    await mongoCall(() => this.model
      .updateOne(this.key(appId, id), { $inc: { loginCount: 1 }, $set: { lastLoginAt: at } }, KEEP_TIMESTAMPS).exec());
  }

  async delete(appId: string, id: string) { return this.accounts.deleteOne(this.key(appId, id)); }
  async deleteByApp(appId: string) { await this.accounts.deleteMany({ appId: text(appId) }); }
}

export class MongoTenantRepository implements TenantRepository {
  private readonly tenants: Records<TenantRecord>;
  private readonly members: Records<MembershipRecord>;

  constructor(tenantModel: Model<TenantRecord>, memberModel: Model<MembershipRecord>) {
    this.tenants = new Records(tenantModel);
    this.members = new Records(memberModel);
  }

  private key(appId: string, id: string): Filter {
    return { appId: text(appId), id: text(id) };
  }

  private memberKey(appId: string, tenantId: string, accountId: string): Filter {
    return { appId: text(appId), tenantId: text(tenantId), accountId: text(accountId) };
  }

  async create(tenant: TenantRecord) { await this.tenants.insert(tenant); }
  async findById(appId: string, id: string) { return this.tenants.findOne(this.key(appId, id)); }
  async findBySlug(appId: string, slug: string) { return this.tenants.findOne({ appId: text(appId), slug: text(slug) }); }
  async findByExternalId(appId: string, externalId: string) {
    return this.tenants.findOne({ appId: text(appId), externalId: text(externalId) });
  }
  async findByConnection(appId: string, connection: string) {
    return this.tenants.findAll({ appId: text(appId), connection: text(connection) });
  }
  async findByDomain(appId: string, domain: string) {
    return this.tenants.findOne({ appId: text(appId), domains: text(domain) });
  }
  async findManyByIds(appId: string, ids: string[]) {
    if (ids.length === 0) return [];
    return this.tenants.findAll({ appId: text(appId), id: trusted({ $in: ids.map(text) }) });
  }
  async list(appId: string) { return this.tenants.findAll({ appId: text(appId) }); }
  async update(appId: string, id: string, patch: Patch<TenantRecord>) {
    return this.tenants.updateOne(this.key(appId, id), toUpdate(patch));
  }

  /** Memberships first: a crash in between leaves a tenant without members, never members of a missing tenant. */
  async delete(appId: string, id: string) {
    await this.members.deleteMany({ appId: text(appId), tenantId: text(id) });
    return this.tenants.deleteOne(this.key(appId, id));
  }

  async deleteByApp(appId: string) {
    await this.members.deleteMany({ appId: text(appId) });
    await this.tenants.deleteMany({ appId: text(appId) });
  }

  /**
   * Replaces the roles of an existing membership, or inserts the membership as given. When two calls race to insert,
   * the loser's duplicate key error turns into a second update, so the call still succeeds.
   */
  async putMember(membership: MembershipRecord) {
    const replaceRoles = () => this.members.updateOne(
      this.memberKey(membership.appId, membership.tenantId, membership.accountId),
      { $set: { roles: membership.roles.map(text) } },
    );
    const updated = await replaceRoles();
    if (updated) return updated;
    try {
      await this.members.insert(membership);
      return structuredClone(membership);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const raced = await replaceRoles();
      if (raced) return raced;
      throw error;
    }
  }

  async findMember(appId: string, tenantId: string, accountId: string) {
    return this.members.findOne(this.memberKey(appId, tenantId, accountId));
  }
  async removeMember(appId: string, tenantId: string, accountId: string) {
    return this.members.deleteOne(this.memberKey(appId, tenantId, accountId));
  }
  async listMembers(appId: string, tenantId: string) {
    return this.members.findAll({ appId: text(appId), tenantId: text(tenantId) });
  }
  async listMembershipsOfAccount(appId: string, accountId: string) {
    return this.members.findAll({ appId: text(appId), accountId: text(accountId) });
  }
  async removeMembershipsOfAccount(appId: string, accountId: string) {
    await this.members.deleteMany({ appId: text(appId), accountId: text(accountId) });
  }
}

export class MongoInvitationRepository implements InvitationRepository {
  private readonly invitations: Records<InvitationRecord>;

  constructor(model: Model<InvitationRecord>) {
    this.invitations = new Records(model);
  }

  private key(appId: string, id: string): Filter {
    return { appId: text(appId), id: text(id) };
  }

  async create(invitation: InvitationRecord) { await this.invitations.insert(invitation); }
  async findById(appId: string, id: string) { return this.invitations.findOne(this.key(appId, id)); }
  async findByTokenHash(appId: string, tokenHash: string) {
    return this.invitations.findOne({ appId: text(appId), tokenHash: text(tokenHash) });
  }
  async list(appId: string) { return this.invitations.findAll({ appId: text(appId) }); }
  async update(appId: string, id: string, patch: Patch<InvitationRecord>) {
    return this.invitations.updateOne(this.key(appId, id), toUpdate(patch));
  }
  async deleteByApp(appId: string) { await this.invitations.deleteMany({ appId: text(appId) }); }
}

export class MongoPartnerRepository implements PartnerRepository {
  private readonly partners: Records<PartnerRecord>;

  constructor(model: Model<PartnerRecord>) {
    this.partners = new Records(model);
  }

  private key(appId: string, slug: string): Filter {
    return { appId: text(appId), slug: text(slug) };
  }

  async create(partner: PartnerRecord) { await this.partners.insert(partner); }
  async find(appId: string, slug: string) { return this.partners.findOne(this.key(appId, slug)); }
  async list(appId: string) { return this.partners.findAll({ appId: text(appId) }); }
  /** The key fields named with `undefined` are removed (a partner switching from a secret to keys loses the secret). */
  async update(appId: string, slug: string, patch: Patch<PartnerRecord>) {
    const removable = REMOVABLE_PARTNER_FIELDS as readonly string[];
    return this.partners.updateOne(this.key(appId, slug), toUpdate(patch, ['slug'], (key) => removable.includes(key)));
  }
  async delete(appId: string, slug: string) { return this.partners.deleteOne(this.key(appId, slug)); }
  async deleteByApp(appId: string) { await this.partners.deleteMany({ appId: text(appId) }); }
}

export class MongoOutboxRepository implements OutboxRepository {
  private readonly messages: Records<OutboxMessage>;

  constructor(private readonly model: Model<OutboxMessage>) {
    this.messages = new Records(model);
  }

  async add(message: OutboxMessage) { await this.messages.insert(message); }

  /** Expired messages are filtered here; the TTL index removes them from disk within a minute or so. */
  async list(appId: string, limit = 500) {
    return this.messages.findLast({ appId: text(appId), expiresAt: trusted({ $gt: new Date() }) }, Number(limit));
  }

  /** Like the memory store's `{ ...message, ...patch }`: an `undefined` value removes the field. */
  async update(appId: string, id: string, patch: Patch<OutboxMessage>) {
    const update = toUpdate(patch, [], () => true);
    if (isEmptyUpdate(update)) return;
    await mongoCall(() => this.model.updateOne({ appId: text(appId), id: text(id) }, update, KEEP_TIMESTAMPS).exec());
  }

  async deleteByApp(appId: string) { await this.messages.deleteMany({ appId: text(appId) }); }
}

export class MongoAuditRepository implements AuditRepository {
  private readonly events: Records<AuditEvent>;

  constructor(private readonly model: Model<AuditEvent>) {
    this.events = new Records(model);
  }

  async add(event: AuditEvent) { await this.events.insert(event); }

  /** The newest `limit` events (default 200), oldest first. */
  async list(appId: string, filter: { accountId?: string; limit?: number } = {}) {
    const query: Filter = { appId: text(appId) };
    if (filter.accountId !== undefined) query.accountId = text(filter.accountId);
    return this.events.findLast(query, Number(filter.limit ?? 200));
  }

  /**
   * Newest first on the index (appId, createdAt desc, id desc). The type prefix is an anchored regular expression of
   * the escaped text, so it can use the index and no caller text is ever read as a pattern.
   */
  async query(appId: string, q: AuditQuery) {
    const and: Filter[] = [{ appId: text(appId) }, { expiresAt: trusted({ $not: { $lte: new Date() } }) }];
    if (q.typePrefix !== undefined) and.push({ type: trusted({ $regex: `^${escapeRegExp(text(q.typePrefix))}` }) });
    if (q.accountId !== undefined) and.push({ accountId: text(q.accountId) });
    if (q.tenantId !== undefined) and.push({ tenantId: text(q.tenantId) });
    if (q.ip !== undefined) and.push({ ip: text(q.ip) });
    if (q.since !== undefined) and.push({ createdAt: trusted({ $gte: dateOf(q.since) }) });
    if (q.until !== undefined) and.push({ createdAt: trusted({ $lt: dateOf(q.until) }) });
    if (q.before !== undefined) {
      const at = dateOf(q.before.createdAt);
      and.push({ $or: [{ createdAt: trusted({ $lt: at }) }, { createdAt: at, id: trusted({ $lt: text(q.before.id) }) }] });
    }
    const limit = Math.max(0, Math.trunc(Number(q.limit)) || 0);
    if (limit === 0) return [];
    return mongoCall(() => this.model.find({ $and: and }).select(withoutId()).sort({ createdAt: -1, id: -1 }).limit(limit)
      .lean<AuditEvent[]>().exec());
  }

  async deleteByApp(appId: string) { await this.events.deleteMany({ appId: text(appId) }); }
}

/** Escapes every character that has a meaning in a regular expression. */
function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A fresh Date of the value's time: never the caller's object. */
function dateOf(value: Date): Date {
  return new Date(Number(value.getTime()));
}
