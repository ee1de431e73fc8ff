/**
 * Second factors of accounts: TOTP authenticator apps (RFC 6238) and recovery codes (NIST SP 800-63B §5.1.2
 * look-up secrets). Passkeys are stored here too (type `webauthn`, see `webauthn-service.ts`).
 *
 * - TOTP secrets are 160 bits (RFC 4226 §4 R6), stored AES-256-GCM sealed with SECRETS_KEY and bound to app, account
 *   and factor id; codes are checked with a ±1 step window (RFC 6238 §5.2) and a step accepted once is refused again
 *   (RFC 6238 §5.2, "MUST NOT accept the second attempt of the same OTP").
 * - 5 wrong codes per 15 minutes per account lock the account's code field for the rest of the window
 *   (NIST SP 800-63B §5.2.2 throttling); the lock is a property of the factor, on even when rate limits are off.
 * - Recovery codes: 10 single-use codes shown once, stored as SHA-256 hashes (bound to the account); a new set
 *   replaces the old one.
 */
import { randomInt } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';
import type { AuditLog } from '../audit/audit-log.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { prefixedId, sha256 } from '../crypto/random.js';
import type { AppRecord, EphemeralStore, FactorRecord, FactorRepository } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';
import { countingMethods } from './policy.js';
import type { WebAuthnService } from './webauthn-service.js';

export const TOTP_PERIOD = 30;
const TOTP_WINDOW = 1;
/** NIST SP 800-63B §5.2.2: 5 wrong codes per 15 minutes. */
export const MFA_MAX_WRONG = 5;
export const MFA_LOCK_SECONDS = 15 * 60;
export const RECOVERY_CODE_COUNT = 10;
/** How long a TOTP secret shown for enrolment waits for its first code. */
const ENROL_TTL_SECONDS = 15 * 60;
/** Unambiguous alphabet (no 0/o, 1/l/i): 10 characters ≈ 50 bits, ample with the lockout above. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export type CodeCheck =
  | { status: 'ok'; factor: FactorRecord; kind: 'totp' }
  | { status: 'ok'; factor: FactorRecord; kind: 'recovery_code'; remaining: number }
  | { status: 'wrong'; locked: boolean }
  | { status: 'locked'; retryAfterSeconds: number };

export interface TotpEnrolment {
  /** Base32 secret, shown as text for people who cannot scan. */
  secret: string;
  /** `otpauth://` URI (Key Uri Format). */
  uri: string;
  /** The URI as a QR code, an SVG data URI (the page CSP allows `img-src data:`). */
  qrDataUri: string;
}

interface PendingTotp {
  sealed: string;
}

export class FactorService {
  constructor(
    private readonly factors: FactorRepository,
    private readonly box: SecretBox,
    private readonly ephemeral: EphemeralStore,
    private readonly audit: AuditLog,
    /** Passkey ceremonies (their factors live in the same repository). */
    readonly webauthn: WebAuthnService,
  ) {}

  list(app: AppRecord, accountId: string): Promise<FactorRecord[]> {
    return this.factors.listByAccount(app.id, accountId);
  }

  /** Factors that count as a second factor in this app (recovery codes only stand in for them). */
  async usable(app: AppRecord, accountId: string): Promise<FactorRecord[]> {
    const methods = countingMethods(app);
    return (await this.list(app, accountId)).filter((f) => (f.type === 'totp' && methods.includes('totp')) || (f.type === 'webauthn' && methods.includes('webauthn')));
  }

  // ---- TOTP enrolment ----

  /** The secret offered to `accountId` in attempt `uid`: the same one until it is confirmed or expires. */
  async beginTotp(app: AppRecord, accountId: string, uid: string, label: string): Promise<TotpEnrolment> {
    const key = shortLivedKey(app.id, 'totp-enrol', `${uid}:${accountId}`);
    const pending = await this.ephemeral.get<PendingTotp>(key);
    let secret = pending ? this.openPending(app, accountId, uid, pending) : undefined;
    if (!secret) {
      secret = new OTPAuth.Secret({ size: 20 }).base32;
      await this.ephemeral.set(key, { sealed: this.box.seal(secret, pendingAad(app, accountId, uid)) }, ENROL_TTL_SECONDS);
    }
    const uri = totpOf(app, secret, label).toString();
    const svg = await QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
    return { secret, uri, qrDataUri: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  }

  /**
   * Confirms the pending secret with a code from the app. The first factor of an account also gets its recovery
   * codes (returned once, here). Wrong codes count towards the lockout like any other.
   */
  async confirmTotp(app: AppRecord, accountId: string, uid: string, code: string, ip?: string):
    Promise<{ status: 'ok'; factor: FactorRecord; recoveryCodes?: string[] } | { status: 'expired' } | Exclude<CodeCheck, { status: 'ok' }>> {
    const locked = await this.lockedFor(app, accountId);
    if (locked) return locked;
    const key = shortLivedKey(app.id, 'totp-enrol', `${uid}:${accountId}`);
    const pending = await this.ephemeral.get<PendingTotp>(key);
    const secret = pending ? this.openPending(app, accountId, uid, pending) : undefined;
    if (!secret) return { status: 'expired' };
    const step = matchingStep(totpOf(app, secret, ''), code);
    if (step === undefined) return this.wrong(app, accountId, ip);
    // Single use of the pending secret: a second confirmation with the same code creates nothing.
    if (!(await this.ephemeral.take<PendingTotp>(key))) return { status: 'expired' };
    const now = new Date();
    const factor: FactorRecord = { appId: app.id, id: prefixedId('fac'), accountId, type: 'totp', name: 'Authenticator app', createdAt: now, updatedAt: now, lastUsedAt: now };
    factor.secretCiphertext = this.box.seal(secret, factorAad(factor));
    const hadRecovery = (await this.list(app, accountId)).some((f) => f.type === 'recovery_codes');
    await this.factors.create(factor);
    await this.markStepUsed(app, factor, step);
    await this.audit.record(app, 'mfa.enrolled', { accountId, ip, detail: { type: 'totp', factor: factor.id } });
    const recoveryCodes = hadRecovery ? undefined : await this.regenerateRecoveryCodes(app, accountId, ip);
    return { status: 'ok', factor, recoveryCodes };
  }

  // ---- verification ----

  /**
   * Checks a code typed in the second-factor field: a TOTP code of one of the account's authenticator apps, or one
   * of its recovery codes. Every wrong code counts; the 5th in 15 minutes locks the field.
   */
  async verifyCode(app: AppRecord, accountId: string, typed: string, ip?: string): Promise<CodeCheck> {
    const locked = await this.lockedFor(app, accountId);
    if (locked) return locked;
    const code = typed.replace(/[\s-]/g, '').toLowerCase();
    const factors = await this.list(app, accountId);
    if (/^\d{6}$/.test(code)) {
      for (const factor of factors.filter((f) => f.type === 'totp' && countingMethods(app).includes('totp'))) {
        const step = matchingStep(totpOf(app, this.box.open(factor.secretCiphertext!, factorAad(factor)), ''), code);
        if (step === undefined) continue;
        // A replayed step is a wrong code: it proves nothing the first use did not.
        if (!(await this.markStepUsed(app, factor, step))) break;
        const used = (await this.factors.update(app.id, factor.id, { lastUsedAt: new Date() })) ?? factor;
        await this.used(app, accountId, used, ip);
        return { status: 'ok', factor: used, kind: 'totp' };
      }
    } else if (code.length === 10) {
      const recovery = factors.find((f) => f.type === 'recovery_codes');
      const remaining = recovery ? await this.factors.takeRecoveryCode(app.id, recovery.id, recoveryHash(accountId, code), new Date()) : undefined;
      if (recovery && remaining !== undefined) {
        await this.used(app, accountId, recovery, ip);
        return { status: 'ok', factor: recovery, kind: 'recovery_code', remaining };
      }
    }
    return this.wrong(app, accountId, ip);
  }

  // ---- recovery codes ----

  /** True when the account has a set of recovery codes (a first factor created one). */
  async hasRecoveryCodes(app: AppRecord, accountId: string): Promise<boolean> {
    return (await this.list(app, accountId)).some((f) => f.type === 'recovery_codes');
  }

  /** A new set of 10 codes; the old set stops working. The codes exist only in this answer. */
  async regenerateRecoveryCodes(app: AppRecord, accountId: string, ip?: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode());
    const now = new Date();
    const old = (await this.list(app, accountId)).filter((f) => f.type === 'recovery_codes');
    await this.factors.create({
      appId: app.id, id: prefixedId('fac'), accountId, type: 'recovery_codes', name: 'Recovery codes',
      codeHashes: codes.map((c) => recoveryHash(accountId, c.replace('-', ''))), createdAt: now, updatedAt: now,
    });
    await Promise.all(old.map((f) => this.factors.delete(app.id, f.id)));
    await this.audit.record(app, 'mfa.enrolled', { accountId, ip, detail: { type: 'recovery_codes', replaced: old.length > 0 } });
    return codes;
  }

  // ---- removal ----

  /** Removes one factor; when no counting factor is left, the recovery codes go too (they recover nothing). */
  async remove(app: AppRecord, accountId: string, factorId: string, by: string): Promise<boolean> {
    const factor = await this.factors.findById(app.id, factorId);
    if (!factor || factor.accountId !== accountId) return false;
    await this.factors.delete(app.id, factorId);
    await this.audit.record(app, 'mfa.removed', { accountId, detail: { type: factor.type, factor: factor.id, by } });
    const left = await this.list(app, accountId);
    if (!left.some((f) => f.type !== 'recovery_codes')) {
      for (const f of left) await this.factors.delete(app.id, f.id);
    }
    return true;
  }

  /** Removes every factor of the account (support case "lost my phone"); how many were removed. */
  async reset(app: AppRecord, accountId: string, by: string): Promise<number> {
    const count = await this.factors.deleteByAccount(app.id, accountId);
    await this.ephemeral.delete(shortLivedKey(app.id, 'mfa-tries', accountId));
    // Nothing removed is nothing to audit (deleting an account without factors comes here too).
    if (count > 0) await this.audit.record(app, 'mfa.removed', { accountId, detail: { type: 'all', count, by } });
    return count;
  }

  // ---- internals ----

  private openPending(app: AppRecord, accountId: string, uid: string, pending: PendingTotp): string | undefined {
    try {
      return this.box.open(pending.sealed, pendingAad(app, accountId, uid));
    } catch {
      return undefined;
    }
  }

  /** Records that `step` of `factor` was used; false when it already was (a replay). */
  private markStepUsed(app: AppRecord, factor: FactorRecord, step: number): Promise<boolean> {
    // Kept for the whole acceptance window of that step: (2 × window + 1) periods.
    return this.ephemeral.setIfAbsent(shortLivedKey(app.id, 'totp-used', `${factor.id}:${step}`), 1, (2 * TOTP_WINDOW + 2) * TOTP_PERIOD);
  }

  private async lockedFor(app: AppRecord, accountId: string): Promise<CodeCheck | undefined> {
    const key = shortLivedKey(app.id, 'mfa-tries', accountId);
    const tries = (await this.ephemeral.get<number>(key)) ?? 0;
    if (tries < MFA_MAX_WRONG) return undefined;
    return { status: 'locked', retryAfterSeconds: (await this.ephemeral.ttl(key)) ?? MFA_LOCK_SECONDS };
  }

  private async wrong(app: AppRecord, accountId: string, ip?: string): Promise<{ status: 'wrong'; locked: boolean }> {
    const tries = await this.ephemeral.increment(shortLivedKey(app.id, 'mfa-tries', accountId), MFA_LOCK_SECONDS);
    const locked = tries >= MFA_MAX_WRONG;
    await this.audit.record(app, locked && tries === MFA_MAX_WRONG ? 'mfa.locked' : 'mfa.failed', { accountId, ip, detail: { tries } });
    return { status: 'wrong', locked };
  }

  private async used(app: AppRecord, accountId: string, factor: FactorRecord, ip?: string): Promise<void> {
    await this.ephemeral.delete(shortLivedKey(app.id, 'mfa-tries', accountId));
    await this.audit.record(app, 'mfa.used', { accountId, ip, detail: { type: factor.type, factor: factor.id } });
  }
}

function totpOf(app: AppRecord, base32: string, label: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer: app.name, label: label || app.name, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD, secret: OTPAuth.Secret.fromBase32(base32) });
}

/** The time step a code belongs to (within ±1 of now), or undefined. */
function matchingStep(totp: OTPAuth.TOTP, code: string): number | undefined {
  const trimmed = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(trimmed)) return undefined;
  const now = Date.now();
  const delta = totp.validate({ token: trimmed, timestamp: now, window: TOTP_WINDOW });
  return delta === null ? undefined : totp.counter({ timestamp: now }) + delta;
}

function newRecoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

const recoveryHash = (accountId: string, normalised: string) => sha256(`recovery:${accountId}:${normalised}`);
const factorAad = (f: Pick<FactorRecord, 'appId' | 'accountId' | 'id'>) => `factor:${f.appId}:${f.accountId}:${f.id}`;
const pendingAad = (app: AppRecord, accountId: string, uid: string) => `totp-enrol:${app.id}:${accountId}:${uid}`;

/** What the Admin API shows of a factor: never a secret. */
export function presentFactor(f: FactorRecord) {
  return {
    id: f.id, type: f.type, name: f.name, created_at: f.createdAt.toISOString(), last_used_at: f.lastUsedAt?.toISOString() ?? null,
    ...(f.type === 'recovery_codes' ? { remaining: f.codeHashes?.length ?? 0 } : {}),
    ...(f.type === 'webauthn' ? { backed_up: f.backedUp ?? false, device_type: f.deviceType ?? null } : {}),
  };
}
