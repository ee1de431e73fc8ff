/**
 * Support PINs: a person shows a 6-digit PIN to a support agent, who checks it through the Admin API before
 * discussing the account ("is this really the account holder?"). The PIN is valid 24 hours; regenerating replaces
 * it. Only an HMAC of it is stored (keyed with a key derived from SECRETS_KEY, so a copy of the store alone does not
 * allow trying all 10^6 PINs); after 5 wrong tries in an hour verification is locked for the rest of that hour
 * (NIST SP 800-63B §5.2.2 throttling), and every check is audited.
 */
import { randomInt } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { hmac, safeEqual } from '../crypto/random.js';
import type { AppRecord, EphemeralStore } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';

export const SUPPORT_PIN_TTL_SECONDS = 24 * 3600;
export const SUPPORT_PIN_MAX_WRONG = 5;
const WRONG_WINDOW_SECONDS = 3600;

interface StoredPin {
  hash: string;
  expiresAt: number;
}

export type PinCheck = { valid: boolean } | { locked: true; retryAfterSeconds: number };

export class SupportPinService {
  private readonly key: string;

  constructor(private readonly ephemeral: EphemeralStore, private readonly audit: AuditLog, secretKey: Buffer) {
    this.key = hmac(secretKey, 'portcullis support pin');
  }

  /** A new PIN for the account (the previous one stops working); the PIN itself is only in this answer. */
  async generate(app: AppRecord, accountId: string, ip?: string): Promise<{ pin: string; expiresAt: Date }> {
    const pin = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = Date.now() + SUPPORT_PIN_TTL_SECONDS * 1000;
    await this.ephemeral.set(this.pinKey(app, accountId), { hash: this.hash(app, accountId, pin), expiresAt } satisfies StoredPin, SUPPORT_PIN_TTL_SECONDS);
    await this.audit.record(app, 'support_pin.created', { accountId, ip });
    return { pin, expiresAt: new Date(expiresAt) };
  }

  /** When the account's current PIN expires, if it has one. */
  async current(app: AppRecord, accountId: string): Promise<Date | undefined> {
    const stored = await this.ephemeral.get<StoredPin>(this.pinKey(app, accountId));
    return stored && stored.expiresAt > Date.now() ? new Date(stored.expiresAt) : undefined;
  }

  async verify(app: AppRecord, accountId: string, pin: string, who: { actor?: string; ip?: string }): Promise<PinCheck> {
    const triesKey = shortLivedKey(app.id, 'support-pin-tries', accountId);
    const wrong = (await this.ephemeral.get<number>(triesKey)) ?? 0;
    if (wrong >= SUPPORT_PIN_MAX_WRONG) {
      const retryAfterSeconds = (await this.ephemeral.ttl(triesKey)) ?? WRONG_WINDOW_SECONDS;
      await this.audit.record(app, 'support_pin.locked', { accountId, actor: who.actor, ip: who.ip });
      return { locked: true, retryAfterSeconds };
    }
    const stored = await this.ephemeral.get<StoredPin>(this.pinKey(app, accountId));
    const valid = Boolean(stored && stored.expiresAt > Date.now() && safeEqual(stored.hash, this.hash(app, accountId, pin)));
    if (!valid) await this.ephemeral.increment(triesKey, WRONG_WINDOW_SECONDS);
    await this.audit.record(app, 'support_pin.verified', { accountId, actor: who.actor, ip: who.ip, detail: { valid } });
    return { valid };
  }

  private pinKey(app: AppRecord, accountId: string): string {
    return shortLivedKey(app.id, 'support-pin', accountId);
  }

  /** Bound to the app and account: a PIN of one account never verifies for another. */
  private hash(app: AppRecord, accountId: string, pin: string): string {
    return hmac(this.key, `${app.id}:${accountId}:${pin}`);
  }
}
