/**
 * What a signed-in person may change about their own account, whatever screen asks (the account center's pages):
 * profile, email and phone (each proved by a code sent to the new contact before it is saved; OIDC Core §5.1
 * `email_verified` / `phone_number_verified` follow), and the password. Every change is audited.
 */
import { randomInt } from 'node:crypto';
import type { AccountService } from '../accounts/account-service.js';
import { normaliseEmail } from '../accounts/account-service.js';
import { PASSWORD_MESSAGES, passwordProblem } from '../accounts/password-policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import { hmac, safeEqual } from '../crypto/random.js';
import { ConflictError } from '../errors.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import { LIMITS } from '../limits/rate-limiter.js';
import type { Messenger } from '../messaging/messenger.js';
import type { Offboarding } from '../sessions/offboarding.js';
import type { AccountRecord, AppRecord, EphemeralStore } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import type { PasswordHasher } from '../accounts/password.js';

/** Codes for a new email or phone: 6 digits, 10 minutes, 5 wrong tries (as sign-in codes). */
const CODE_TTL_SECONDS = 600;
const CODE_MAX_TRIES = 5;
/** A password change without the current password needs a sign-in this recent (OWASP ASVS V3.7.1). */
export const RECENT_SIGN_IN_SECONDS = 5 * 60;

type Contact = 'email' | 'phone';

interface PendingChange {
  value: string;
  hash: string;
  tries: number;
}

export interface Who {
  ip?: string;
}

export type ChangeResult = 'changed' | 'wrong' | 'expired' | 'taken';
export type PasswordResult = 'changed' | 'wrong_current' | 'reauthenticate' | 'too_short' | 'too_long' | 'common' | 'contextual';

export interface SelfServiceDeps {
  accounts: AccountService;
  hasher: PasswordHasher;
  audit: AuditLog;
  messenger: Messenger;
  ephemeral: EphemeralStore;
  limiter: RateLimiter;
  offboarding: Offboarding;
  secretKey: Buffer;
}

const PROBLEMS: Record<string, PasswordResult> = {
  [PASSWORD_MESSAGES.tooShort]: 'too_short',
  [PASSWORD_MESSAGES.tooLong]: 'too_long',
  [PASSWORD_MESSAGES.common]: 'common',
  [PASSWORD_MESSAGES.contextual]: 'contextual',
};

export class SelfService {
  private readonly key: string;

  constructor(private readonly deps: SelfServiceDeps) {
    this.key = hmac(deps.secretKey, 'portcullis contact change');
  }

  async updateProfile(app: AppRecord, account: AccountRecord, patch: { name: string; locale?: string }, who: Who): Promise<AccountRecord> {
    const updated = await this.deps.accounts.update(app, account.id, { name: patch.name, locale: patch.locale });
    await this.deps.audit.record(app, 'account.updated', { accountId: account.id, ip: who.ip, detail: { by: 'account', fields: 'name locale' } });
    return updated;
  }

  /**
   * Sends a code to the new address or number. Answers the same whether or not another account uses it (no
   * enumeration); that is told only when the code is entered. False when the sends of the hour are used up.
   */
  async requestChange(app: AppRecord, account: AccountRecord, contact: Contact, raw: string, who: Who): Promise<boolean> {
    const value = contact === 'email' ? normaliseEmail(raw) : raw;
    const over = await this.deps.limiter.hit(app.id, LIMITS.sendsPerIdentifier, `contact-change:${account.id}`);
    if (over) return false;
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await this.deps.ephemeral.set(this.pendingKey(app, account, contact), { value, hash: this.hash(app, account, contact, value, code), tries: 0 } satisfies PendingChange, CODE_TTL_SECONDS);
    await this.deps.messenger.send(app, contact === 'email'
      ? { channel: 'email', to: value, kind: 'verify_email', locals: { code }, locale: account.locale }
      : { channel: 'sms', to: value, kind: 'sign_in_code', locals: { code }, locale: account.locale });
    await this.deps.audit.record(app, `account.${contact}_change_requested`, { accountId: account.id, ip: who.ip });
    return true;
  }

  /** The address or number a code was sent to and not confirmed yet. */
  async pending(app: AppRecord, account: AccountRecord, contact: Contact): Promise<string | undefined> {
    return (await this.deps.ephemeral.get<PendingChange>(this.pendingKey(app, account, contact)))?.value;
  }

  async confirmChange(app: AppRecord, account: AccountRecord, contact: Contact, code: string, who: Who): Promise<ChangeResult> {
    const key = this.pendingKey(app, account, contact);
    const pending = await this.deps.ephemeral.get<PendingChange>(key);
    if (!pending || pending.tries >= CODE_MAX_TRIES) return 'expired';
    if (!safeEqual(pending.hash, this.hash(app, account, contact, pending.value, code))) {
      const ttl = await this.deps.ephemeral.ttl(key);
      if (ttl && ttl > 0) await this.deps.ephemeral.set(key, { ...pending, tries: pending.tries + 1 }, ttl);
      return pending.tries + 1 >= CODE_MAX_TRIES ? 'expired' : 'wrong';
    }
    // Single use: of two parallel correct submissions only the one that takes the record applies it.
    if (!(await this.deps.ephemeral.take<PendingChange>(key))) return 'expired';
    try {
      await this.deps.accounts.update(app, account.id, contact === 'email'
        ? { email: pending.value, email_verified: true }
        : { phone: pending.value, phone_verified: true });
    } catch (error) {
      if (error instanceof ConflictError) return 'taken';
      throw error;
    }
    if (contact === 'email' && account.email && account.email !== pending.value) {
      // The old address is told, so a takeover of the account cannot quietly move it elsewhere.
      await this.deps.messenger.send(app, { channel: 'email', to: account.email, kind: 'email_changed', locals: { newEmail: pending.value }, locale: account.locale });
    }
    await this.deps.audit.record(app, 'account.updated', { accountId: account.id, ip: who.ip, detail: { by: 'account', fields: contact === 'email' ? 'email' : 'phone_number' } });
    return 'changed';
  }

  /**
   * Changes or sets the password. Needs the current password when there is one, or a sign-in within the last five
   * minutes. Afterwards every other session ends unless `keepSessions` (the session `currentSession` stays).
   */
  async changePassword(
    app: AppRecord, account: AccountRecord,
    input: { current?: string; next: string; keepSessions: boolean },
    context: Who & { authTime: number; currentSession?: string },
  ): Promise<PasswordResult> {
    const recent = Date.now() / 1000 - context.authTime <= RECENT_SIGN_IN_SECONDS;
    if (account.passwordHash && input.current) {
      if (!(await this.deps.hasher.verify(account.passwordHash, input.current))) return 'wrong_current';
    } else if (!recent) {
      return 'reauthenticate';
    }
    const problem = passwordProblem(input.next, { email: account.email, appName: app.name });
    if (problem) return PROBLEMS[problem] ?? 'common';
    await this.deps.accounts.setPassword(app, account.id, input.next);
    await this.deps.audit.record(app, 'account.password_changed', { accountId: account.id, ip: context.ip, detail: { by: 'account', removed: false } });
    if (!input.keepSessions) await this.deps.offboarding.signOutEverywhere(app, account.id, { by: 'account', ip: context.ip }, context.currentSession);
    if (account.email) await this.deps.messenger.send(app, { channel: 'email', to: account.email, kind: 'password_changed', locals: {}, locale: account.locale });
    return 'changed';
  }

  private pendingKey(app: AppRecord, account: AccountRecord, contact: Contact): string {
    return shortLivedKey(app.id, 'contact-change', `${account.id}:${contact}`);
  }

  /** Bound to the account, the kind of contact and the new value: a code proves exactly that change. */
  private hash(app: AppRecord, account: AccountRecord, contact: Contact, value: string, code: string): string {
    return hmac(this.key, `${app.id}:${account.id}:${contact}:${value}:${code}`);
  }
}
