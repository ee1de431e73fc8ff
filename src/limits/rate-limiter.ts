import type { EphemeralStore } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import { sha256 } from '../crypto/random.js';

export interface Limit {
  /** Bucket name, e.g. `password:identifier`. */
  name: string;
  max: number;
  windowSeconds: number;
}

/** A limit that is over: how long until the window ends (for `Retry-After`). */
export interface Exceeded {
  limit: Limit;
  retryAfterSeconds: number;
}

/**
 * Fixed-window counters in the ephemeral store (OWASP ASVS V2.2.1 anti-automation). Counters apply whether or not
 * the identifier exists, so a limit never tells an attacker anything about accounts. Keys hash the subject so no
 * email or phone number is stored in the counter store. With limits disabled nothing touches the store.
 */
export class RateLimiter {
  constructor(private readonly store: EphemeralStore, private readonly enabled: boolean) {}

  /** Counts one hit; the exceeded limit when this hit went over its maximum. */
  async hit(appId: string, limit: Limit, subject: string): Promise<Exceeded | undefined> {
    if (!this.enabled) return undefined;
    const key = this.key(appId, limit, subject);
    const count = await this.store.increment(key, limit.windowSeconds);
    if (count <= limit.max) return undefined;
    return { limit, retryAfterSeconds: (await this.store.ttl(key)) ?? limit.windowSeconds };
  }

  /** Counts one hit against each limit (in parallel); the first that went over, if any. */
  async hitAll(appId: string, hits: ReadonlyArray<readonly [Limit, string]>): Promise<Exceeded | undefined> {
    const results = await Promise.all(hits.map(([limit, subject]) => this.hit(appId, limit, subject)));
    return results.find((r) => r !== undefined);
  }

  /**
   * Claims `claim.key` (set if absent, for `claim.ttlSeconds`) and, only when this call claimed it, counts one hit
   * against each limit, in one step of the store: a refused claim spends no limit. `claimed: false` when the key was
   * there; otherwise the first limit that went over, if any. With limits disabled only the claim is made.
   */
  async claimThenHitAll(appId: string, claim: { key: string; ttlSeconds: number }, hits: ReadonlyArray<readonly [Limit, string]>): Promise<{ claimed: boolean; exceeded?: Exceeded }> {
    if (!this.enabled) return { claimed: await this.store.setIfAbsent(claim.key, 1, claim.ttlSeconds) };
    const keys = hits.map(([limit, subject]) => this.key(appId, limit, subject));
    const counts = await this.store.claimThenIncrement(claim.key, 1, claim.ttlSeconds, keys.map((key, i) => ({ key, ttlSeconds: hits[i][0].windowSeconds })));
    if (!counts) return { claimed: false };
    const over = hits.findIndex(([limit], i) => counts[i] > limit.max);
    if (over < 0) return { claimed: true };
    const [limit] = hits[over];
    return { claimed: true, exceeded: { limit, retryAfterSeconds: (await this.store.ttl(keys[over])) ?? limit.windowSeconds } };
  }

  /**
   * Reads the counters without counting: the first limit already at its maximum, and which counters are non-zero
   * (so a success resets only those, saving a round trip per empty counter).
   */
  async check(appId: string, checks: ReadonlyArray<readonly [Limit, string]>): Promise<{ exceeded?: Exceeded; used: Array<readonly [Limit, string]> }> {
    if (!this.enabled) return { used: [] };
    const counts = await Promise.all(checks.map(([limit, subject]) => this.store.get<number>(this.key(appId, limit, subject))));
    const used = checks.filter((_, i) => (counts[i] ?? 0) > 0);
    const over = checks.findIndex(([limit], i) => (counts[i] ?? 0) >= limit.max);
    if (over < 0) return { used };
    const [limit, subject] = checks[over];
    return { used, exceeded: { limit, retryAfterSeconds: (await this.store.ttl(this.key(appId, limit, subject))) ?? limit.windowSeconds } };
  }

  async reset(appId: string, limit: Limit, subject: string): Promise<void> {
    if (!this.enabled) return;
    await this.store.delete(this.key(appId, limit, subject));
  }

  private key(appId: string, limit: Limit, subject: string): string {
    return shortLivedKey(appId, `rl:${limit.name}`, sha256(subject.toLowerCase()));
  }
}

/** The limits, in one place. */
export const LIMITS = {
  /**
   * Failed passwords per identifier from one client IP: slows online guessing without letting a stranger elsewhere
   * lock the person out (NIST SP 800-63B §5.2.2; OWASP ASVS V2.2.1).
   */
  passwordPerIdentifierAndIp: { name: 'password:identifier-ip', max: 10, windowSeconds: 15 * 60 },
  /**
   * Failed passwords per identifier from anywhere: the ceiling NIST SP 800-63B §5.2.2 sets (no more than 100
   * consecutive failures), high enough that locking someone out takes a distributed attack.
   */
  passwordPerIdentifier: { name: 'password:identifier', max: 100, windowSeconds: 60 * 60 },
  /** Password attempts per client IP per hour. */
  passwordPerIp: (perHour: number): Limit => ({ name: 'password:ip', max: perHour * 5, windowSeconds: 3600 }),
  /** Code / link sends per identifier per hour. */
  sendsPerIdentifier: { name: 'send:identifier', max: 5, windowSeconds: 3600 },
  /** Code / link sends per client IP per hour (generous: an office sits behind one NAT). */
  sendsPerIp: (perHour: number): Limit => ({ name: 'send:ip', max: perHour, windowSeconds: 3600 }),
  /** Refused partner tokens (sign-in links, jwt-bearer assertions) per client IP per hour. */
  partnerFailuresPerIp: (perHour: number): Limit => ({ name: 'partner:ip', max: perHour, windowSeconds: 3600 }),
} as const;
