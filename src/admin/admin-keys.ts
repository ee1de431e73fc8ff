/**
 * Managed Admin API keys: created with scopes and apps, shown once, stored as a SHA-256 hash, optionally expiring,
 * with `last_used_at` kept. The bootstrap ADMIN_API_KEY stays valid next to them with every right.
 */
import { randomBytes } from 'node:crypto';
import { prefixedId, safeEqual, sha256 } from '../crypto/random.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { AdminKeyRecord, AdminKeyRepository } from '../storage/ports.js';
import type { AdminPrincipal } from './admin-principal.js';

/** Resources of the Admin API; each has a `:read` and a `:write` scope. `admin` grants everything. */
export const KEY_RESOURCES = ['apps', 'clients', 'accounts', 'tenants', 'invitations', 'audit', 'webhooks', 'messaging', 'resources', 'connections'] as const;
export const KEY_SCOPES = ['admin', ...KEY_RESOURCES.flatMap((r) => [`${r}:read`, `${r}:write`])] as [string, ...string[]];

/** `last_used_at` is written at most this often per key, so a busy key does not cost a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

export interface CreateKeyInput {
  name: string;
  scopes: string[];
  apps: string[];
  expires_at?: string;
}

export class AdminKeyService {
  constructor(private readonly repo: AdminKeyRepository) {}

  /** The key's secret is in this answer only. 256 random bits, so SHA-256 alone stores it safely (no KDF needed). */
  async create(input: CreateKeyInput): Promise<{ key: AdminKeyRecord; secret: string }> {
    const expiresAt = input.expires_at ? new Date(input.expires_at) : undefined;
    if (expiresAt && expiresAt.getTime() <= Date.now()) throw new InvalidRequestError('`expires_at` must be in the future.');
    const secret = `pck_${randomBytes(32).toString('base64url')}`;
    const key: AdminKeyRecord = {
      id: prefixedId('key'), name: input.name, secretHash: sha256(secret), scopes: [...new Set(input.scopes)],
      apps: input.apps.includes('*') ? ['*'] : [...new Set(input.apps)], createdAt: new Date(), ...(expiresAt ? { expiresAt } : {}),
    };
    await this.repo.create(key);
    return { key, secret };
  }

  list(): Promise<AdminKeyRecord[]> {
    return this.repo.list();
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete(id))) throw new NotFoundError('No such API key.');
  }

  /**
   * The principal of a presented key, or undefined (unknown, expired). The lookup is by hash of a high-entropy
   * secret, which leaks nothing an attacker can steer; the stored hash is still compared in constant time.
   */
  async authenticate(token: string): Promise<AdminPrincipal | undefined> {
    const hash = sha256(token);
    const key = await this.repo.findBySecretHash(hash);
    if (!key || !safeEqual(key.secretHash, hash)) return undefined;
    const now = Date.now();
    if (key.expiresAt && key.expiresAt.getTime() <= now) return undefined;
    if (!key.lastUsedAt || now - key.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) await this.repo.touch(key.id, new Date(now));
    return { keyId: key.id, name: key.name, scopes: key.scopes, apps: key.apps };
  }
}

export function presentKey(key: AdminKeyRecord) {
  return {
    id: key.id, name: key.name, scopes: key.scopes, apps: key.apps,
    expires_at: key.expiresAt?.toISOString() ?? null, last_used_at: key.lastUsedAt?.toISOString() ?? null,
    created_at: key.createdAt.toISOString(),
  };
}
