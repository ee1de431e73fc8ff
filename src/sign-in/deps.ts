/**
 * The services the sign-in core works with. Each method and stage declares the part it needs with `Pick`, so the
 * composition root can see exactly what reaches where.
 */
import type { Lifetimes } from '../../config/index.js';
import type { AccountService } from '../accounts/account-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { Logger } from '../log.js';
import type { Messenger } from '../messaging/messenger.js';
import type { EphemeralStore } from '../storage/ports.js';
import type { FactorService } from '../mfa/factor-service.js';
import type { TenantService } from '../tenants/tenant-service.js';

export interface SignInDeps {
  accounts: AccountService;
  tenants: TenantService;
  audit: AuditLog;
  /** Second factors (TOTP, recovery codes, passkeys). */
  factors: FactorService;
  limiter: RateLimiter;
  messenger: Messenger;
  ephemeral: EphemeralStore;
  lifetimes: Lifetimes;
  /** RATE_LIMIT_IP_PER_HOUR: per-IP caps of sign-in attempts and sends. */
  ipPerHour: number;
  /** PUBLIC_URL: the only source of links' origin. */
  publicUrl: URL;
  log: Pick<Logger, 'error'>;
}

/** What the shared stages (account, tenant, consent, finish) need. */
export type SequenceDeps = Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors'>;
