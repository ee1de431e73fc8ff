import type { CounterRef, EphemeralStore, SecretTry } from '../ports.js';
import { claimThenIncrementInSteps, takeIfMatchesInSteps } from '../store-steps.js';
import type { RedisClient } from './connection.js';
import { callRedis, isSlotMigrating } from './errors.js';
import { LuaScript } from './lua-script.js';
import { ephemeralKey } from './keys.js';

export interface RedisStoreOptions {
  /** Prepended to every key, so several deployments can share one Redis. Default `pc:`. */
  prefix?: string;
}

/** Redis `SET … PX` takes whole milliseconds; the contract speaks seconds (possibly fractional). */
function toMs(ttlSeconds: number): number {
  return Math.max(1, Math.round(ttlSeconds * 1000));
}

/** A window or lifetime as the scripts take it: whole milliseconds, 0 for none. */
function windowMs(ttlSeconds: number): number {
  return ttlSeconds > 0 ? toMs(ttlSeconds) : 0;
}

function parse<T>(raw: string | null): T | undefined {
  return raw === null ? undefined : (JSON.parse(raw) as T);
}

/**
 * The Lua of one fixed-window count, shared by the scripts below: INCR of `key`, and on the counter's creation its
 * window (`PEXPIRE … NX`, `ms` a Lua expression, 0 for none); the count is left in the local `count`.
 */
const countInWindow = (key: string, ms: string) => `local count = redis.call('INCR', ${key})
if tonumber(${ms}) > 0 then redis.call('PEXPIRE', ${key}, tonumber(${ms}), 'NX') end`;

/** {@link countInWindow} of KEYS[1]; ARGV[1] is the window in ms. */
const INCREMENT = new LuaScript(`${countInWindow('KEYS[1]', 'ARGV[1]')}
return count`);

/**
 * SET NX of KEYS[1] (ARGV[1] the value, ARGV[2] its time to live in ms, 0 for none), and only when it was set, the
 * INCREMENT above for each further key (ARGV[2 + i] its window): the counts, or nil when KEYS[1] was there.
 */
const CLAIM_THEN_INCREMENT = new LuaScript(`local ms = tonumber(ARGV[2])
local claimed
if ms > 0 then claimed = redis.call('SET', KEYS[1], ARGV[1], 'PX', ms, 'NX') else claimed = redis.call('SET', KEYS[1], ARGV[1], 'NX') end
if not claimed then return nil end
local counts = {}
for i = 2, #KEYS do
  ${countInWindow('KEYS[i]', 'ARGV[i + 1]')}
  counts[i - 1] = count
end
return counts`);

/**
 * One try at a secret: KEYS[1] the record (JSON), KEYS[2] its try counter (ARGV[1] its window in ms, 0 for none),
 * ARGV[2] the most tries, ARGV[3] the field, ARGV[4] the expected value. Returns {tries, record JSON or '', taken 0/1}.
 * The field is compared with `==`: it holds an HMAC, whose bytes the person trying cannot steer, so the time of the
 * comparison tells nothing about the secret.
 */
const TAKE_IF_MATCHES = new LuaScript(`${countInWindow('KEYS[2]', 'ARGV[1]')}
local tries = count
if tries > tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return {tries, '', 0}
end
local raw = redis.call('GET', KEYS[1])
if not raw then return {tries, '', 0} end
local ok, record = pcall(cjson.decode, raw)
if ok and type(record) == 'table' and record[ARGV[3]] == ARGV[4] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {tries, raw, 1}
end
return {tries, raw, 0}`);

/**
 * {@link EphemeralStore} on Redis with native key expiry, so nothing needs sweeping. Values are JSON: what comes
 * back is always a fresh copy. Every method is one round trip and atomic on the server (GETDEL, SET NX,
 * a script of INCR + PEXPIRE NX); this needs Redis 7.0 or newer (`EXPIRE … NX`).
 *
 * A `ttlSeconds` of 0 means "no expiry", as in the in-memory store.
 */
export class RedisEphemeralStore implements EphemeralStore {
  /** Commands or transactions sent, for benchmarks. */
  roundTrips = 0;
  private readonly prefix: string;

  constructor(private readonly client: RedisClient, options: RedisStoreOptions = {}) {
    this.prefix = options.prefix ?? 'pc:';
  }

  /** Names per `./keys.ts`: one app's keys share a cluster hash slot, different apps spread over the nodes. */
  private key(key: string): string {
    return ephemeralKey(this.prefix, key);
  }

  private call<T>(operation: () => Promise<T>): Promise<T> {
    this.roundTrips += 1;
    return callRedis(operation);
  }

  private script(script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    return callRedis(() => script.run(this.client, keys, args, () => { this.roundTrips += 1; }));
  }

  async get<T>(key: string): Promise<T | undefined> {
    return parse<T>(await this.call(() => this.client.get(this.key(key))));
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    const json = JSON.stringify(value);
    await this.call(() =>
      ttlSeconds > 0 ? this.client.set(this.key(key), json, 'PX', toMs(ttlSeconds)) : this.client.set(this.key(key), json));
  }

  async setIfAbsent(key: string, value: unknown, ttlSeconds: number): Promise<boolean> {
    const json = JSON.stringify(value);
    const reply = await this.call(() =>
      ttlSeconds > 0
        ? this.client.set(this.key(key), json, 'PX', toMs(ttlSeconds), 'NX')
        : this.client.set(this.key(key), json, 'NX'));
    return reply === 'OK';
  }

  /** GETDEL (Redis 6.2+): the server reads and deletes in one step, so of concurrent callers exactly one wins. */
  async take<T>(key: string): Promise<T | undefined> {
    return parse<T>(await this.call(() => this.client.getdel(this.key(key))));
  }

  async delete(key: string): Promise<void> {
    await this.call(() => this.client.del(this.key(key)));
  }

  /**
   * Fixed window: INCR creates the counter at 1, and `PEXPIRE … NX` sets the window only when the counter has no
   * expiry yet, i.e. on creation. Later increments never extend it. Both run in one script (atomic, so a crash
   * between them cannot leave an immortal counter); unlike a MULTI, a script is one command that the client's
   * auto-pipelining sends together with the other commands of the same moment (a rate-limit hit and the counter
   * reads beside it cost one round trip).
   */
  async increment(key: string, ttlSeconds: number): Promise<number> {
    return Number(await this.script(INCREMENT, [this.key(key)], [windowMs(ttlSeconds)]));
  }

  /**
   * One script over the claim and its counters (one app's keys share a hash slot). While a Redis Cluster migrates
   * that slot, a script over several keys is refused until the migration ends (TRYAGAIN): then it runs in steps,
   * each a one-key command that follows the slot to its new node.
   */
  async claimThenIncrement(key: string, value: unknown, ttlSeconds: number, counters: ReadonlyArray<CounterRef>): Promise<number[] | undefined> {
    const keys = [this.key(key), ...counters.map((c) => this.key(c.key))];
    const args = [JSON.stringify(value), windowMs(ttlSeconds), ...counters.map((c) => windowMs(c.ttlSeconds))];
    try {
      const counts = await this.script(CLAIM_THEN_INCREMENT, keys, args);
      return counts === null ? undefined : (counts as unknown[]).map(Number);
    } catch (error) {
      if (!isSlotMigrating(error)) throw error;
      return claimThenIncrementInSteps(this, key, value, ttlSeconds, counters);
    }
  }

  /** One script (both keys are the app's, one hash slot); in steps while Redis Cluster migrates that slot. */
  async takeIfMatches<T>(key: string, tries: CounterRef, maxTries: number, field: string, expected: string): Promise<SecretTry<T>> {
    try {
      const [count, raw, taken] = (await this.script(TAKE_IF_MATCHES, [this.key(key), this.key(tries.key)], [windowMs(tries.ttlSeconds), maxTries, field, expected])) as [number, string, number];
      return { tries: Number(count), record: raw ? parse<T>(raw) : undefined, taken: Number(taken) === 1 };
    } catch (error) {
      if (!isSlotMigrating(error)) throw error;
      return takeIfMatchesInSteps<T>(this, key, tries, maxTries, field, expected);
    }
  }

  /** Rounded up like the in-memory store: a key with 200 ms left reports 1 s, never 0. */
  async ttl(key: string): Promise<number | undefined> {
    const ms = await this.call(() => this.client.pttl(this.key(key)));
    if (ms === -2) return undefined;
    if (ms === -1) return Infinity;
    return Math.ceil(ms / 1000);
  }
}
