/**
 * Passkeys (W3C WebAuthn Level 3, with @simplewebauthn/server): registration and assertion ceremonies bound to one
 * sign-in attempt. RP ID is the host of PUBLIC_URL and the origin must be PUBLIC_URL's origin (WebAuthn §7.1 steps
 * 9 and 13, §7.2 steps 13 and 15); every challenge is random, single use and short-lived (§13.4.3); the sign counter
 * and backup flags are stored, and a counter that goes backwards is refused (§6.1.1, cloned authenticator).
 * User verification is `preferred` for a second factor and `required` for a passkey that is the whole sign-in.
 */
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { AuditLog } from '../audit/audit-log.js';
import { prefixedId } from '../crypto/random.js';
import type { AccountRecord, AppRecord, EphemeralStore, FactorRecord, FactorRepository } from '../storage/ports.js';
import { shortLivedKey } from '../storage/short-lived-keys.js';

const CHALLENGE_TTL_SECONDS = 5 * 60;

export type Ceremony = 'register' | 'second_factor' | 'sign_in';

/** Why a passkey response was refused (the page says "that did not work"; the reason goes to the audit log). */
export class PasskeyRefused extends Error {}

interface StoredChallenge {
  challenge: string;
  accountId?: string;
}

export class WebAuthnService {
  constructor(
    private readonly factors: FactorRepository,
    private readonly ephemeral: EphemeralStore,
    private readonly audit: AuditLog,
    private readonly publicUrl: URL,
  ) {}

  get rpId(): string {
    return this.publicUrl.hostname;
  }

  private key(app: AppRecord, uid: string, ceremony: Ceremony) {
    return shortLivedKey(app.id, 'webauthn-challenge', `${uid}:${ceremony}`);
  }

  /**
   * The challenge of this attempt's ceremony: the pending one when the page is shown again (a reload or a second
   * tab must not invalidate the first), else a new random one. Either way it is taken (single use) when verified.
   */
  private async pendingChallenge(app: AppRecord, uid: string, ceremony: Ceremony, accountId?: string): Promise<string | undefined> {
    const pending = await this.ephemeral.get<StoredChallenge>(this.key(app, uid, ceremony));
    return pending && pending.accountId === accountId ? pending.challenge : undefined;
  }

  /** Options for registering a new passkey of `account` (its existing passkeys excluded). */
  async registrationOptions(app: AppRecord, account: AccountRecord, uid: string) {
    const challenge = await this.pendingChallenge(app, uid, 'register', account.id);
    const existing = (await this.factors.listByAccount(app.id, account.id)).filter((f) => f.type === 'webauthn');
    const options = await generateRegistrationOptions({
      rpName: app.name,
      rpID: this.rpId,
      userName: account.email ?? account.phone ?? account.id,
      userDisplayName: account.name ?? account.email ?? '',
      userID: new TextEncoder().encode(account.id),
      attestationType: 'none',
      ...(challenge ? { challenge: new Uint8Array(Buffer.from(challenge, 'base64url')) } : {}),
      excludeCredentials: existing.map((f) => ({ id: f.credentialId!, transports: f.transports })),
      // A discoverable credential, so the same passkey can also be the whole sign-in.
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
    await this.ephemeral.set(this.key(app, uid, 'register'), { challenge: options.challenge, accountId: account.id } satisfies StoredChallenge, CHALLENGE_TTL_SECONDS);
    return options;
  }

  /** Verifies a registration response and stores the passkey. Throws PasskeyRefused; nothing is stored then. */
  async register(app: AppRecord, accountId: string, uid: string, response: unknown, name: string, ip?: string): Promise<FactorRecord> {
    const stored = await this.ephemeral.take<StoredChallenge>(this.key(app, uid, 'register'));
    if (!stored || stored.accountId !== accountId) throw new PasskeyRefused('no registration challenge for this attempt');
    let verification;
    try {
      verification = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: stored.challenge,
        expectedOrigin: this.publicUrl.origin,
        expectedRPID: this.rpId,
        requireUserVerification: false,
      });
    } catch (err) {
      throw new PasskeyRefused((err as Error).message);
    }
    if (!verification.verified) throw new PasskeyRefused('registration not verified');
    const info = verification.registrationInfo;
    if (await this.factors.findByCredentialId(app.id, info.credential.id)) throw new PasskeyRefused('credential already registered');
    const now = new Date();
    const factor: FactorRecord = {
      appId: app.id, id: prefixedId('fac'), accountId, type: 'webauthn', name,
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: info.credential.transports,
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      createdAt: now, updatedAt: now, lastUsedAt: now,
    };
    await this.factors.create(factor);
    await this.audit.record(app, 'mfa.enrolled', { accountId, ip, detail: { type: 'webauthn', factor: factor.id } });
    return factor;
  }

  /**
   * Options for an assertion: for a second factor, the account's passkeys; for a passwordless sign-in, none listed
   * (the authenticator offers its discoverable credentials for this RP ID).
   */
  async authenticationOptions(app: AppRecord, uid: string, ceremony: 'second_factor' | 'sign_in', accountId?: string) {
    const challenge = await this.pendingChallenge(app, uid, ceremony, accountId);
    const allow = accountId ? (await this.factors.listByAccount(app.id, accountId)).filter((f) => f.type === 'webauthn') : [];
    const options = await generateAuthenticationOptions({
      rpID: this.rpId,
      allowCredentials: allow.map((f) => ({ id: f.credentialId!, transports: f.transports as never })),
      userVerification: ceremony === 'sign_in' ? 'required' : 'preferred',
      ...(challenge ? { challenge: new Uint8Array(Buffer.from(challenge, 'base64url')) } : {}),
    });
    await this.ephemeral.set(this.key(app, uid, ceremony), { challenge: options.challenge, accountId } satisfies StoredChallenge, CHALLENGE_TTL_SECONDS);
    return options;
  }

  /** Verifies an assertion; the passkey used (counter updated). Throws PasskeyRefused. */
  async authenticate(app: AppRecord, uid: string, ceremony: 'second_factor' | 'sign_in', response: unknown, ip?: string): Promise<{ factor: FactorRecord; userVerified: boolean }> {
    const stored = await this.ephemeral.take<StoredChallenge>(this.key(app, uid, ceremony));
    if (!stored) throw new PasskeyRefused('no challenge for this attempt');
    const credentialId = (response as { id?: unknown } | null)?.id;
    if (typeof credentialId !== 'string' || credentialId.length > 1400) throw new PasskeyRefused('malformed response');
    const factor = await this.factors.findByCredentialId(app.id, credentialId);
    if (!factor || factor.type !== 'webauthn' || (stored.accountId && factor.accountId !== stored.accountId)) throw new PasskeyRefused('unknown credential');
    let verification;
    try {
      verification = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: stored.challenge,
        expectedOrigin: this.publicUrl.origin,
        expectedRPID: this.rpId,
        credential: { id: factor.credentialId!, publicKey: Buffer.from(factor.publicKey!, 'base64url'), counter: factor.counter ?? 0, transports: factor.transports },
        requireUserVerification: ceremony === 'sign_in',
      });
    } catch (err) {
      await this.audit.record(app, 'mfa.failed', { accountId: factor.accountId, ip, detail: { type: 'webauthn', reason: (err as Error).message.slice(0, 200) } });
      throw new PasskeyRefused((err as Error).message);
    }
    if (!verification.verified) throw new PasskeyRefused('assertion not verified');
    const { newCounter, userVerified, credentialBackedUp, credentialDeviceType } = verification.authenticationInfo as typeof verification.authenticationInfo & { credentialBackedUp: boolean; credentialDeviceType: 'singleDevice' | 'multiDevice' };
    const updated = (await this.factors.update(app.id, factor.id, { counter: newCounter, lastUsedAt: new Date(), backedUp: credentialBackedUp, deviceType: credentialDeviceType })) ?? factor;
    await this.audit.record(app, 'mfa.used', { accountId: factor.accountId, ip, detail: { type: 'webauthn', factor: factor.id, ceremony } });
    return { factor: updated, userVerified };
  }
}

/** RFC 8176: `hwk` for a key bound to one device, `swk` for a synced (multi-device) passkey; `user` when verified. */
export function passkeyAmr(factor: FactorRecord, userVerified: boolean): string[] {
  return [factor.deviceType === 'multiDevice' ? 'swk' : 'hwk', ...(userVerified ? ['user'] : [])];
}
