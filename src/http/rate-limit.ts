import type { EphemeralStore } from '../storage/ports.js';
import { sha256 } from '../crypto/random.js';
import { TooManyRequestsError } from './errors.js';

export interface Limit {
  /** Bucket name, e.g. `password:identifier`. */
  name: string;
  max: number;
  windowSeconds: number;
}

/**
 * Fixed-window counters in the ephemeral store (OWASP ASVS V2.2.1 anti-automation). Counters apply whether or not
 * the identifier exists, so a limit never tells an attacker anything about accounts. Keys hash the subject so no
 * email or phone number is stored in the counter store.
 */
export class RateLimiter {
  constructor(private readonly store: EphemeralStore, private readonly enabled: boolean) {}

  /** Counts one hit; throws 429 once the window's maximum is exceeded. */
  async hit(appId: string, limit: Limit, subject: string): Promise<void> {
    if (!this.enabled) return;
    const key = this.key(appId, limit, subject);
    const count = await this.store.increment(key, limit.windowSeconds);
    if (count > limit.max) throw new TooManyRequestsError((await this.store.ttl(key)) ?? limit.windowSeconds);
  }

  /** True when the subject is already over the limit (without counting). */
  async exceeded(appId: string, limit: Limit, subject: string): Promise<boolean> {
    if (!this.enabled) return false;
    const count = (await this.store.get<number>(this.key(appId, limit, subject))) ?? 0;
    return count >= limit.max;
  }

  async reset(appId: string, limit: Limit, subject: string): Promise<void> {
    await this.store.delete(this.key(appId, limit, subject));
  }

  private key(appId: string, limit: Limit, subject: string): string {
    return `app:${appId}:rl:${limit.name}:${sha256(subject.toLowerCase())}`;
  }
}

/** The limits, in one place. */
export const LIMITS = {
  /** Failed password attempts per identifier: slows online guessing (NIST 800-63B §5.2.2: at most 100 failures). */
  passwordPerIdentifier: { name: 'password:identifier', max: 10, windowSeconds: 15 * 60 },
  /** Password attempts per client IP per hour. */
  passwordPerIp: (perHour: number): Limit => ({ name: 'password:ip', max: perHour * 5, windowSeconds: 3600 }),
  /** Code / link sends per identifier per hour. */
  sendsPerIdentifier: { name: 'send:identifier', max: 5, windowSeconds: 3600 },
  /** Code / link sends per client IP per hour (generous: an office sits behind one NAT). */
  sendsPerIp: (perHour: number): Limit => ({ name: 'send:ip', max: perHour, windowSeconds: 3600 }),
} as const;
