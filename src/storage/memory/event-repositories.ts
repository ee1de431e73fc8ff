/**
 * In-process implementations of the Admin API key, webhook and webhook delivery repositories (contract:
 * `../ports.ts`). Every method completes its write synchronously before its first await, so writes made in the same
 * tick (an audit event and its deliveries) land together.
 */
import { ConflictError } from '../../errors.js';
import type {
  AdminKeyRecord, AdminKeyRepository, Patch, WebhookDelivery, WebhookDeliveryRepository, WebhookRecord, WebhookRepository,
} from '../ports.js';
import { copy } from './clock-map.js';

const oldestFirst = <T extends { createdAt: Date }>(a: T, b: T) => a.createdAt.getTime() - b.createdAt.getTime();

export class MemoryAdminKeyRepository implements AdminKeyRepository {
  private readonly keys = new Map<string, AdminKeyRecord>();

  async create(key: AdminKeyRecord) {
    if (this.keys.has(key.id) || [...this.keys.values()].some((k) => k.secretHash === key.secretHash)) {
      throw new ConflictError('A key with this identifier already exists.');
    }
    this.keys.set(key.id, copy(key));
  }
  async findById(id: string) { const k = this.keys.get(id); return k ? copy(k) : undefined; }
  async findBySecretHash(secretHash: string) {
    const k = [...this.keys.values()].find((key) => key.secretHash === secretHash);
    return k ? copy(k) : undefined;
  }
  async list() { return [...this.keys.values()].map((k) => copy(k)).sort(oldestFirst); }
  async touch(id: string, at: Date) {
    const k = this.keys.get(id);
    if (k) k.lastUsedAt = new Date(at.getTime());
  }
  async delete(id: string) { return this.keys.delete(id); }
}

export class MemoryWebhookRepository implements WebhookRepository {
  private readonly hooks = new Map<string, WebhookRecord>();

  async create(webhook: WebhookRecord) {
    const key = `${webhook.appId}:${webhook.id}`;
    if (this.hooks.has(key)) throw new ConflictError('A webhook with this identifier already exists.');
    this.hooks.set(key, copy(webhook));
  }
  async find(appId: string, id: string) { const h = this.hooks.get(`${appId}:${id}`); return h ? copy(h) : undefined; }
  async list(appId: string) { return [...this.hooks.values()].filter((h) => h.appId === appId).map((h) => copy(h)).sort(oldestFirst); }
  async update(appId: string, id: string, patch: Patch<WebhookRecord>) {
    const current = this.hooks.get(`${appId}:${id}`);
    if (!current) return undefined;
    const next = { ...current, ...copy(patch), appId, id, createdAt: current.createdAt, updatedAt: new Date() };
    this.hooks.set(`${appId}:${id}`, next);
    return copy(next);
  }
  async delete(appId: string, id: string) { return this.hooks.delete(`${appId}:${id}`); }
  async deleteByApp(appId: string) { for (const [k, h] of this.hooks) if (h.appId === appId) this.hooks.delete(k); }
}

export class MemoryWebhookDeliveryRepository implements WebhookDeliveryRepository {
  private readonly deliveries = new Map<string, WebhookDelivery>();

  async addMany(deliveries: WebhookDelivery[]) {
    if (deliveries.some((d) => this.deliveries.has(`${d.appId}:${d.id}`))) throw new ConflictError('A delivery with this identifier already exists.');
    for (const d of deliveries) this.deliveries.set(`${d.appId}:${d.id}`, copy(d));
  }
  async find(appId: string, id: string) { const d = this.deliveries.get(`${appId}:${id}`); return d ? copy(d) : undefined; }
  async list(appId: string, webhookId: string, page: { before?: { createdAt: Date; id: string }; limit: number }) {
    const before = page.before;
    return [...this.deliveries.values()]
      .filter((d) => d.appId === appId && d.webhookId === webhookId && (!before || isBefore(d, before)))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .slice(0, Math.max(0, page.limit))
      .map((d) => copy(d));
  }
  async claim(owner: string, now: Date, leaseMs: number, limit: number) {
    const due = [...this.deliveries.values()]
      .filter((d) => d.status === 'pending' && d.nextAttemptAt <= now && !(d.leaseExpiresAt && d.leaseExpiresAt > now))
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
      .slice(0, Math.max(0, limit));
    for (const d of due) {
      d.leaseOwner = owner;
      d.leaseExpiresAt = new Date(now.getTime() + leaseMs);
    }
    return due.map((d) => copy(d));
  }
  async settle(appId: string, id: string, owner: string, patch: Patch<WebhookDelivery>) {
    const d = this.deliveries.get(`${appId}:${id}`);
    if (!d || d.leaseOwner !== owner) return false;
    this.deliveries.set(`${appId}:${id}`, released({ ...d, ...copy(patch), updatedAt: new Date() }));
    return true;
  }
  async update(appId: string, id: string, patch: Patch<WebhookDelivery>) {
    const d = this.deliveries.get(`${appId}:${id}`);
    if (!d) return undefined;
    const next = released({ ...d, ...copy(patch), updatedAt: new Date() });
    this.deliveries.set(`${appId}:${id}`, next);
    return copy(next);
  }
  async countPending() { return [...this.deliveries.values()].filter((d) => d.status === 'pending').length; }
  async deleteByWebhook(appId: string, webhookId: string) {
    for (const [k, d] of this.deliveries) if (d.appId === appId && d.webhookId === webhookId) this.deliveries.delete(k);
  }
  async deleteByApp(appId: string) { for (const [k, d] of this.deliveries) if (d.appId === appId) this.deliveries.delete(k); }
}

function released(d: WebhookDelivery): WebhookDelivery {
  const { leaseOwner: _owner, leaseExpiresAt: _until, ...rest } = d;
  return rest;
}

function isBefore(d: WebhookDelivery, position: { createdAt: Date; id: string }): boolean {
  const t = d.createdAt.getTime();
  const p = position.createdAt.getTime();
  return t < p || (t === p && d.id < position.id);
}
