import { ConflictError, NotFoundError } from '../errors.js';
import { prefixedId } from '../crypto/random.js';
import type { AccountRecord, AccountRepository, AccountStatus, AppRecord, TenantRepository } from '../storage/ports.js';
import type { PasswordHasher } from './password.js';

/** Email addresses are compared trimmed, NFC-normalised and lower-cased. */
export function normaliseEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

export interface AccountInput {
  email?: string;
  phone?: string;
  password?: string;
  name?: string;
  email_verified?: boolean;
  phone_verified?: boolean;
  status?: AccountStatus;
  locale?: string;
}

export interface AccountPatch extends Omit<AccountInput, 'password'> {
  password?: string | null;
  opted_out?: boolean;
}

/**
 * Who may be sent a sign-in message (code, link, reset): active accounts that did not opt out. Everyone else simply
 * gets nothing, behind the same answer (OWASP ASVS V2.2: no enumeration).
 */
export function mayReceiveSignInMessages(account: AccountRecord | undefined): account is AccountRecord {
  return account !== undefined && account.status === 'active' && !account.optedOut;
}

/** Accounts of an app: creation, lookup by contact, password sign-in and the login counters. */
export class AccountService {
  constructor(
    private readonly accounts: AccountRepository,
    private readonly tenants: TenantRepository,
    private readonly hasher: PasswordHasher,
    /** What else goes with a deleted account (its linked upstream identities and their stored tokens). */
    private readonly onDeleted: (app: AppRecord, id: string) => Promise<void> = async () => undefined,
  ) {}

  /**
   * `passwordHash` (from {@link hashPassword}) is for flows that hash the password when it is typed and create the
   * account later, such as registration after the email is verified; the plaintext is then never kept.
   */
  async create(app: AppRecord, input: AccountInput, prepared: { passwordHash?: string } & Pick<AccountRecord, 'partnerLinks' | 'externalIds'> = {}): Promise<AccountRecord> {
    const email = input.email ? normaliseEmail(input.email) : undefined;
    const now = new Date();
    const account: AccountRecord = {
      appId: app.id,
      id: prefixedId('acc'),
      email,
      emailVerified: input.email_verified ?? false,
      phone: input.phone,
      phoneVerified: input.phone_verified ?? false,
      name: input.name,
      passwordHash: input.password ? await this.hasher.hash(input.password) : prepared.passwordHash,
      status: input.status ?? 'active',
      optedOut: false,
      uniqueEmail: email && app.settings.accounts_per_email === 'one' ? email : undefined,
      locale: input.locale,
      createdAt: now,
      updatedAt: now,
      loginCount: 0,
      ...(prepared.partnerLinks ? { partnerLinks: prepared.partnerLinks } : {}),
      ...(prepared.externalIds ? { externalIds: prepared.externalIds } : {}),
    };
    try {
      await this.accounts.create(account);
    } catch (err) {
      if (err instanceof ConflictError) throw new ConflictError('An account with this email already exists in this app.');
      throw err;
    }
    return account;
  }

  find(app: AppRecord, id: string): Promise<AccountRecord | undefined> {
    return this.accounts.findById(app.id, id);
  }

  async require(app: AppRecord, id: string): Promise<AccountRecord> {
    const account = await this.find(app, id);
    if (!account) throw new NotFoundError(`No account "${id}" in app "${app.slug}".`);
    return account;
  }

  list(app: AppRecord, filter: { email?: string; limit?: number; after?: string } = {}): Promise<AccountRecord[]> {
    return this.accounts.list(app.id, { ...filter, email: filter.email ? normaliseEmail(filter.email) : undefined });
  }

  findByEmail(app: AppRecord, email: string): Promise<AccountRecord[]> {
    return this.accounts.findByEmail(app.id, normaliseEmail(email));
  }

  findByPhone(app: AppRecord, phone: string): Promise<AccountRecord[]> {
    return this.accounts.findByPhone(app.id, phone);
  }

  findByPartnerSubject(app: AppRecord, partner: string, subject: string): Promise<AccountRecord | undefined> {
    return this.accounts.findByPartnerSubject(app.id, partner, subject);
  }

  /** Records what a partner says about the account: its link to the partner's subject and its external ids. */
  async updateFromPartner(app: AppRecord, id: string, patch: Pick<AccountRecord, 'partnerLinks' | 'externalIds'> & { status?: AccountStatus; name?: string }): Promise<AccountRecord> {
    const updated = await this.accounts.update(app.id, id, patch);
    if (!updated) throw new NotFoundError(`No account "${id}" in app "${app.slug}".`);
    return updated;
  }

  async update(app: AppRecord, id: string, patch: AccountPatch): Promise<AccountRecord> {
    const current = await this.require(app, id);
    const email = patch.email !== undefined ? normaliseEmail(patch.email) : undefined;
    const emailChanged = email !== undefined && email !== current.email;
    try {
      const updated = await this.accounts.update(app.id, id, {
        email,
        uniqueEmail: emailChanged && app.settings.accounts_per_email === 'one' ? email : undefined,
        emailVerified: patch.email_verified ?? (emailChanged ? false : undefined),
        phone: patch.phone,
        phoneVerified: patch.phone_verified ?? (patch.phone !== undefined && patch.phone !== current.phone ? false : undefined),
        name: patch.name,
        status: patch.status,
        optedOut: patch.opted_out,
        locale: patch.locale,
        ...(patch.password === null ? { passwordHash: '' } : {}),
        ...(typeof patch.password === 'string' ? { passwordHash: await this.hasher.hash(patch.password) } : {}),
      });
      return updated!;
    } catch (err) {
      if (err instanceof ConflictError) throw new ConflictError('An account with this email already exists in this app.');
      throw err;
    }
  }

  /** Hashes a password with the app's hasher (argon2id), for {@link create}'s `passwordHash`. */
  hashPassword(password: string): Promise<string> {
    return this.hasher.hash(password);
  }

  async setPassword(app: AppRecord, id: string, password: string): Promise<void> {
    await this.accounts.update(app.id, id, { passwordHash: await this.hasher.hash(password) });
  }

  async delete(app: AppRecord, id: string): Promise<void> {
    if (!(await this.accounts.delete(app.id, id))) throw new NotFoundError(`No account "${id}" in app "${app.slug}".`);
    await this.tenants.removeMembershipsOfAccount(app.id, id);
    await this.onDeleted(app, id);
  }

  /**
   * Password sign-in: every active account with this email whose password matches (one at most unless the app allows
   * several accounts per email). Always performs at least one argon2 verification, so an unknown email takes as
   * long as a known one (OWASP ASVS V2.2, no enumeration by timing).
   */
  async verifyPassword(app: AppRecord, email: string, password: string): Promise<AccountRecord[]> {
    const candidates = (await this.findByEmail(app, email)).filter((a) => a.status === 'active');
    if (candidates.length === 0) {
      await this.hasher.verify(undefined, password);
      return [];
    }
    const results = await Promise.all(candidates.map(async (a) => ((await this.hasher.verify(a.passwordHash || undefined, password)) ? a : undefined)));
    const matches = results.filter((a): a is AccountRecord => a !== undefined);
    // Upgrade hashes made with older parameters while we hold the plaintext.
    for (const a of matches) if (a.passwordHash && this.hasher.needsRehash(a.passwordHash)) await this.setPassword(app, a.id, password);
    return matches;
  }

  /**
   * Ends every session and token of the account that exists now (OWASP ASVS V3.3.3, after a password reset): the
   * provider refuses anything from a sign-in before `signInsValidFrom`. The provider counts time in whole seconds,
   * so the mark is the next second, and this waits for it: a sign-in made after this returns is always valid.
   */
  async endAllSignIns(app: AppRecord, id: string): Promise<void> {
    const validFrom = Math.floor(Date.now() / 1000) + 1;
    await this.accounts.update(app.id, id, { signInsValidFrom: new Date(validFrom * 1000) });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, validFrom * 1000 - Date.now())));
  }

  /** A code or link sent to the address reached the person: the address is verified. */
  async markVerified(app: AppRecord, id: string, channel: 'email' | 'sms'): Promise<void> {
    await this.accounts.update(app.id, id, channel === 'email' ? { emailVerified: true } : { phoneVerified: true });
  }

  recordLogin(app: AppRecord, id: string): Promise<void> {
    return this.accounts.recordLogin(app.id, id, new Date());
  }
}

/** Admin API view of an account (never the password hash). */
export function presentAccount(account: AccountRecord) {
  return {
    id: account.id,
    email: account.email ?? null,
    email_verified: account.emailVerified,
    phone_number: account.phone ?? null,
    phone_number_verified: account.phoneVerified,
    name: account.name ?? null,
    status: account.status,
    has_password: Boolean(account.passwordHash),
    opted_out: account.optedOut,
    created_at: account.createdAt.toISOString(),
    updated_at: account.updatedAt.toISOString(),
    last_login_at: account.lastLoginAt?.toISOString() ?? null,
    login_count: account.loginCount,
    external_ids: account.externalIds ?? {},
  };
}
