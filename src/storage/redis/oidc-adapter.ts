import type { Adapter, AdapterPayload } from 'oidc-provider';
import {
  ACCOUNT_INDEXED_OIDC_MODELS, GRANTABLE_OIDC_MODELS, type OidcAccountIndex, type OidcAdapterFactory, type OidcRecordRef,
} from '../ports.js';
import type { RedisClient } from './connection.js';
import type { RedisStoreOptions } from './ephemeral-store.js';
import { callRedis, isSlotMigrating } from './errors.js';
import { LuaScript } from './lua-script.js';
import { oidcAppKey } from './keys.js';
import { alreadyConsumed } from '../consume-conflict.js';

/**
 * Record layout, after node-oidc-provider's example Redis adapter (`example/adapters/redis.js`), with these
 * differences:
 * - Every record is a hash `{payload: JSON, consumed?: epoch seconds}`, for every model, so `consume` is one
 *   HSET that keeps the record's TTL and `find` (HMGET) returns `consumed` merged into the payload.
 * - Keys are `{prefix}{{appId}}:{model}:{id}`: the app id is a Redis Cluster hash tag, so one app's records,
 *   indexes and grant sets share a slot and the scripts below stay valid on a cluster; two apps never share a key.
 * - Secondary keys `…:uid:{model}:{uid}` and `…:userCode:{model}:{code}` hold the record id and expire with it.
 * - The grant index `{prefix}{{appId}}:grant:{grantId}` is a SET (re-saving a grant adds nothing) whose TTL is
 *   raised to the longest-lived member with `EXPIRE NX` + `EXPIRE GT` inside the same script, instead of a
 *   separate TTL read.
 * - The account index `{prefix}{{appId}}:account:{model}:{accountId}` (Session, Grant, RefreshToken) is a SET of
 *   record ids kept the same way; ids of records that are gone are removed when the set is read.
 * Requires Redis 7.0+ (`EXPIRE NX|GT`).
 */
const FIELD_PAYLOAD = 'payload';
const FIELD_CONSUMED = 'consumed';

/** The Lua of one key's part of a save, shared by {@link UPSERT} and the key-by-key scripts below (`ttl` is a local). */
const lua = {
  record: (key: string, payload: string) => `redis.call('HDEL', ${key}, '${FIELD_CONSUMED}')
redis.call('HSET', ${key}, '${FIELD_PAYLOAD}', ${payload})
if ttl > 0 then redis.call('EXPIRE', ${key}, ttl) else redis.call('PERSIST', ${key}) end`,
  pointer: (key: string, id: string) => `if ttl > 0 then redis.call('SET', ${key}, ${id}, 'EX', ttl) else redis.call('SET', ${key}, ${id}) end`,
  index: (key: string, member: string) => `redis.call('SADD', ${key}, ${member})
if ttl > 0 then
  redis.call('EXPIRE', ${key}, ttl, 'NX')
  redis.call('EXPIRE', ${key}, ttl, 'GT')
else
  redis.call('PERSIST', ${key})
end`,
};

/**
 * Saves a record in one script instead of a MULTI of 3-8 commands (one reply to parse instead of one per command,
 * no pipeline object per token): replace the record (HDEL of `consumed` + HSET, so a stale `consumed` never survives
 * a re-save; not DEL + HSET: in a Redis Cluster slot being migrated, a key the script itself deleted counts as
 * "non local" and the HSET after it is refused),
 * set its TTL, write the uid/userCode pointers with the same TTL, add it to its grant's and its account's index.
 * Always 5 keys (all of the app's hash tag); an unused slot repeats the record key and its flag in ARGV is '0'.
 * ARGV: payload JSON, ttl seconds (0 = none), record id, has uid, has userCode, has grant, has account.
 */
const UPSERT = new LuaScript(
  `local ttl = tonumber(ARGV[2])
${lua.record('KEYS[1]', 'ARGV[1]')}
for i = 2, 3 do
  if ARGV[i + 2] == '1' then ${lua.pointer('KEYS[i]', 'ARGV[3]')} end
end
for i = 4, 5 do
  if ARGV[i + 2] == '1' then
${lua.index('KEYS[i]', "i == 4 and KEYS[1] or ARGV[3]")}
  end
end
return 1`);

/**
 * The parts of {@link UPSERT} one key at a time (ARGV: value, ttl), for a save while the app's slot is being
 * migrated to another node: a cluster answers a script over several keys `TRYAGAIN` until every one of them is on
 * the same node again, i.e. until the migration ends, while a one-key script is sent (ASK) to wherever its key is.
 */
const WRITE_RECORD = new LuaScript(`local ttl = tonumber(ARGV[2])\n${lua.record('KEYS[1]', 'ARGV[1]')}\nreturn 1`);
const WRITE_POINTER = new LuaScript(`local ttl = tonumber(ARGV[2])\n${lua.pointer('KEYS[1]', 'ARGV[1]')}\nreturn 1`);
const ADD_TO_INDEX = new LuaScript(`local ttl = tonumber(ARGV[2])\n${lua.index('KEYS[1]', 'ARGV[1]')}\nreturn 1`);

/**
 * The records behind an account index set (ids), in one round trip: `{id, payload, consumed or ''}` per live record;
 * ids whose record is gone (destroyed, revoked, expired) are removed from the set on the way.
 */
const LIST_BY_ACCOUNT = new LuaScript(
  `local ids = redis.call('SMEMBERS', KEYS[1])
local out = {}
for i = 1, #ids do
  local v = redis.call('HMGET', ARGV[1] .. ids[i], '${FIELD_PAYLOAD}', '${FIELD_CONSUMED}')
  if v[1] then out[#out + 1] = { ids[i], v[1], v[2] or '' } else redis.call('SREM', KEYS[1], ids[i]) end
end
return out`);

/** Reads the id behind a uid/userCode key and the record it points to, in one round trip. */
const FIND_BY_INDEX = new LuaScript(
  `local id = redis.call('GET', KEYS[1])
if not id then return false end
return redis.call('HMGET', ARGV[1] .. id, '${FIELD_PAYLOAD}', '${FIELD_CONSUMED}')`);

/**
 * Claims a record: marks it consumed and answers 1 only if it exists and was not consumed yet, in one atomic
 * script, so of N parallel redemptions exactly one gets 1. (HSET on a missing key would create an immortal stub.)
 */
const CONSUME = new LuaScript(
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], '${FIELD_CONSUMED}', ARGV[1])`);

/** Deletes every record of a grant and the index itself, atomically (nothing can be added halfway). */
const REVOKE_GRANT = new LuaScript(
  `local members = redis.call('SMEMBERS', KEYS[1])
for i = 1, #members do redis.call('DEL', members[i]) end
redis.call('DEL', KEYS[1])
return #members`);

/**
 * FIND_BY_INDEX, LIST_BY_ACCOUNT and REVOKE_GRANT reach keys they cannot declare (the id behind a pointer, a set's
 * members). Those
 * keys share the app's slot, which a cluster accepts, except while that slot is being migrated to another node and
 * the key has already moved: the node then refuses the script with this error instead of redirecting it. Every
 * declared key is routed by the client (MOVED/ASK), so only these three scripts need a per-key fallback.
 */
function isUndeclaredKeyElsewhere(error: unknown): boolean {
  return error instanceof Error && error.message.includes('Script attempted to access a non local key');
}

type Stored = [payload: string | null, consumed: string | null];

function decode(stored: Stored | null): AdapterPayload | undefined {
  if (!stored || stored[0] === null) return undefined;
  const payload = JSON.parse(stored[0]) as AdapterPayload;
  if (stored[1] !== null) payload.consumed = Number(stored[1]);
  return payload;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * oidc-provider's Adapter contract on Redis for every app and model. Each adapter call is exactly one round trip
 * (a command or a script); {@link roundTrips} counts them for benchmarks.
 */
export class RedisOidcStore {
  /** Commands, transactions or scripts sent (a script re-sent after NOSCRIPT counts twice). */
  roundTrips = 0;
  private readonly prefix: string;

  constructor(private readonly client: RedisClient, options: RedisStoreOptions = {}) {
    this.prefix = options.prefix ?? 'pc:';
  }

  readonly adapterFactory: OidcAdapterFactory = (appId) => (model) => new RedisOidcAdapter(this, this.appKey(appId), model);

  /** The account index over this store's records (see {@link LIST_BY_ACCOUNT}). */
  readonly accountIndex: OidcAccountIndex = {
    listByAccount: async (appId, model, accountId) => {
      const keys = new AdapterKeys(this.appKey(appId), model);
      const found = await this.listByAccount(keys.account(accountId), keys.recordPrefix);
      return found.filter((record) => record.payload.accountId === accountId);
    },
  };

  /** `{prefix}{{appId}}`: the braces make the app id the cluster hash tag (see `./keys.ts`). */
  private appKey(appId: string): string {
    return oidcAppKey(this.prefix, appId);
  }

  private call<T>(operation: () => Promise<T>): Promise<T> {
    this.roundTrips += 1;
    return callRedis(operation);
  }

  private script(script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    return callRedis(() => script.run(this.client, keys, args, () => { this.roundTrips += 1; }));
  }

  // The methods below take fully built keys and are called by the per-model adapters; use `adapterFactory`.

  /**
   * One script (see {@link UPSERT}): replace the record, set its TTL, write the uid/userCode pointers with the same
   * TTL, and add it to its grant's index, atomically.
   */
  async upsert(keys: AdapterKeys, id: string, payload: AdapterPayload, expiresIn: number | undefined, grantable: boolean): Promise<void> {
    const key = keys.record(id);
    const ttl = expiresIn && expiresIn > 0 ? Math.ceil(expiresIn) : 0;
    // Only tokens join the grant index: revokeByGrantId must not delete an interaction in progress.
    const grant = payload.grantId && grantable ? keys.grant(payload.grantId) : undefined;
    const account = keys.indexedByAccount && typeof payload.accountId === 'string' ? keys.account(payload.accountId) : undefined;
    const json = JSON.stringify(payload);
    const uid = payload.uid ? keys.uid(payload.uid) : undefined;
    const userCode = payload.userCode ? keys.userCode(payload.userCode) : undefined;
    try {
      await this.script(
        UPSERT,
        [key, uid ?? key, userCode ?? key, grant ?? key, account ?? key],
        [json, ttl, id, uid ? '1' : '0', userCode ? '1' : '0', grant ? '1' : '0', account ? '1' : '0'],
      );
    } catch (error) {
      if (!isSlotMigrating(error)) throw error;
      // Not one atomic step like the script: the pointers and indexes go first and the record last, so a failure
      // halfway leaves at most a pointer or an index entry to a record that does not exist (readers skip those),
      // never a record its grant's revocation cannot find.
      await Promise.all([
        ...[uid, userCode].filter((k) => k !== undefined).map((k) => this.script(WRITE_POINTER, [k], [id, ttl])),
        ...(grant ? [this.script(ADD_TO_INDEX, [grant], [key, ttl])] : []),
        ...(account ? [this.script(ADD_TO_INDEX, [account], [id, ttl])] : []),
      ]);
      await this.script(WRITE_RECORD, [key], [json, ttl]);
    }
  }

  async listByAccount(indexKey: string, recordPrefix: string): Promise<OidcRecordRef[]> {
    try {
      const rows = (await this.script(LIST_BY_ACCOUNT, [indexKey], [recordPrefix])) as Array<[string, string, string]>;
      return rows.map(([id, payload, consumed]) => ({ id, payload: decode([payload, consumed === '' ? null : consumed])! }));
    } catch (error) {
      if (!isUndeclaredKeyElsewhere(error)) throw error;
      // Resharding (see findByIndex): the set, then each record where it is now.
      const ids = await this.call(() => this.client.smembers(indexKey));
      const found = await Promise.all(ids.map(async (id) => ({ id, payload: await this.find(`${recordPrefix}${id}`) })));
      return found.filter((r): r is OidcRecordRef => r.payload !== undefined);
    }
  }

  async find(key: string): Promise<AdapterPayload | undefined> {
    const stored = await this.call(() => this.client.hmget(key, FIELD_PAYLOAD, FIELD_CONSUMED));
    return decode(stored as Stored);
  }

  async findByIndex(indexKey: string, recordPrefix: string): Promise<AdapterPayload | undefined> {
    try {
      return decode((await this.script(FIND_BY_INDEX, [indexKey], [recordPrefix])) as Stored | null);
    } catch (error) {
      if (!isUndeclaredKeyElsewhere(error)) throw error;
      // The app's slot is being resharded: two commands, each routed (ASK) to the node that holds its key now.
      const id = await this.call(() => this.client.get(indexKey));
      return id === null ? undefined : this.find(`${recordPrefix}${id}`);
    }
  }

  /** True when this call claimed the record; false when it was missing or already consumed. */
  async consume(key: string): Promise<boolean> {
    return (await this.script(CONSUME, [key], [nowSeconds()])) === 1;
  }

  async destroy(key: string): Promise<void> {
    await this.call(() => this.client.del(key));
  }

  async revokeByGrantId(grantKey: string): Promise<void> {
    try {
      await this.script(REVOKE_GRANT, [grantKey], []);
    } catch (error) {
      if (!isUndeclaredKeyElsewhere(error)) throw error;
      // Resharding (see findByIndex): each DEL goes where its key is now. Not one atomic step like the script, but
      // every DEL is idempotent and the index goes last, so a retry after a failure still finds every member.
      const members = await this.call(() => this.client.smembers(grantKey));
      await Promise.all(members.map((member) => this.call(() => this.client.del(member))));
      await this.call(() => this.client.del(grantKey));
    }
  }
}

/** Key builders of one (app, model). */
class AdapterKeys {
  /** Session, Grant and RefreshToken records join the account index. */
  readonly indexedByAccount: boolean;

  constructor(private readonly app: string, private readonly model: string) {
    this.indexedByAccount = (ACCOUNT_INDEXED_OIDC_MODELS as readonly string[]).includes(model);
  }

  /** Prefix of record keys; the uid/userCode scripts append the id to it. */
  get recordPrefix(): string {
    return `${this.app}:${this.model}:`;
  }

  record(id: string): string {
    return `${this.recordPrefix}${id}`;
  }

  /** Lower-case segments never collide with oidc-provider's PascalCase model names. */
  uid(uid: string): string {
    return `${this.app}:uid:${this.model}:${uid}`;
  }

  userCode(userCode: string): string {
    return `${this.app}:userCode:${this.model}:${userCode}`;
  }

  /** Per app, not per model: a grant's tokens span AccessToken, RefreshToken, AuthorizationCode, … */
  grant(grantId: string): string {
    return `${this.app}:grant:${grantId}`;
  }

  /** Per model: the ids in it are this model's record ids. */
  account(accountId: string): string {
    return `${this.app}:account:${this.model}:${accountId}`;
  }
}

class RedisOidcAdapter implements Adapter {
  private readonly keys: AdapterKeys;
  private readonly grantable: boolean;

  constructor(private readonly store: RedisOidcStore, app: string, private readonly model: string) {
    this.keys = new AdapterKeys(app, model);
    this.grantable = GRANTABLE_OIDC_MODELS.has(model);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    await this.store.upsert(this.keys, id, payload, expiresIn, this.grantable);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.store.find(this.keys.record(id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.store.findByIndex(this.keys.uid(uid), this.keys.recordPrefix);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.store.findByIndex(this.keys.userCode(userCode), this.keys.recordPrefix);
  }

  /** Fails with invalid_grant for every caller but the first (see `../consume-conflict.ts`). */
  async consume(id: string): Promise<void> {
    if (!(await this.store.consume(this.keys.record(id)))) throw alreadyConsumed(this.model);
  }

  async destroy(id: string): Promise<void> {
    await this.store.destroy(this.keys.record(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.store.revokeByGrantId(this.keys.grant(grantId));
  }
}
