/**
 * Contracts of the Admin API key, webhook and webhook delivery repositories (see `src/storage/ports.ts`), run
 * against every store by `test/storage/event-repositories.contract.test.ts`.
 */
import { ConflictError } from '../../../src/errors.js';
import type { AdminKeyRepository, WebhookDelivery, WebhookDeliveryRepository, WebhookRepository, WebhookRecord } from '../../../src/storage/ports.js';

type Factory<T> = () => T | Promise<T>;
const T0 = Date.UTC(2030, 0, 1);
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const OPERATOR = { $gt: '' } as unknown as string;
const ids = <T extends { id: string }>(records: T[]) => records.map((r) => r.id).sort();

function delivery(overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    appId: 'app-1', id: 'msg-1', webhookId: 'wh-1', eventId: 'evt-1', type: 'tenant.created', payload: '{"type":"tenant.created"}',
    status: 'pending', attempts: 0, nextAttemptAt: at(0), createdAt: at(0), updatedAt: at(0), ...overrides,
  };
}

function webhook(overrides: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    appId: 'app-1', id: 'wh-1', url: 'https://hooks.example.test/x', events: ['*'], enabled: true,
    secrets: [{ ciphertext: 'v1.a.b.c', createdAt: at(0) }], createdAt: at(0), updatedAt: at(0), ...overrides,
  };
}

export function webhookDeliveryRepositoryContract(make: Factory<WebhookDeliveryRepository>): void {
  describe('WebhookDeliveryRepository', () => {
    let repo: WebhookDeliveryRepository;
    beforeEach(async () => { repo = await make(); });

    it('claims due pending deliveries once: concurrent claimers get disjoint sets', async () => {
      await repo.addMany(Array.from({ length: 10 }, (_, n) => delivery({ id: `msg-${n}`, nextAttemptAt: at(n) })));
      await repo.addMany([delivery({ id: 'later', nextAttemptAt: at(100) }), delivery({ id: 'done', status: 'delivered' })]);
      const [a, b, c] = await Promise.all([repo.claim('a', at(50), 60_000, 4), repo.claim('b', at(50), 60_000, 4), repo.claim('c', at(50), 60_000, 4)]);
      const all = [...a, ...b, ...c].map((d) => d.id);
      expect(all.sort()).toEqual(Array.from({ length: 10 }, (_, n) => `msg-${n}`).sort());
      expect(new Set(all).size).toBe(10);
      expect(await repo.claim('d', at(50), 60_000, 10)).toEqual([]);
      expect(a.every((d) => d.leaseOwner === 'a' && d.leaseExpiresAt?.getTime() === at(50).getTime() + 60_000)).toBe(true);
    });

    it('lets another worker take over an expired lease, and only the holder may settle', async () => {
      await repo.addMany([delivery()]);
      expect(ids(await repo.claim('crashed', at(1), 1000, 5))).toEqual(['msg-1']);
      expect(await repo.claim('other', at(1.5), 1000, 5)).toEqual([]);
      expect(ids(await repo.claim('other', at(3), 1000, 5))).toEqual(['msg-1']);
      expect(await repo.settle('app-1', 'msg-1', 'crashed', { status: 'delivered' })).toBe(false);
      expect(await repo.settle('app-1', 'msg-1', 'other', { status: 'pending', attempts: 1, nextAttemptAt: at(10), lastStatusCode: 500 })).toBe(true);
      const settled = await repo.find('app-1', 'msg-1');
      expect(settled).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500 });
      expect(settled?.leaseOwner).toBeUndefined();
      expect(await repo.claim('x', at(9), 1000, 5)).toEqual([]);
      expect(ids(await repo.claim('x', at(10), 1000, 5))).toEqual(['msg-1']);
    });

    it('counts pending deliveries, updates (clearing the lease), lists newest first and deletes', async () => {
      await repo.addMany([delivery({ id: 'm1', createdAt: at(1) }), delivery({ id: 'm2', createdAt: at(2) }), delivery({ id: 'm3', createdAt: at(3), webhookId: 'wh-2' })]);
      expect(await repo.countPending()).toBe(3);
      await repo.claim('w', at(5), 60_000, 1);
      const updated = await repo.update('app-1', 'm1', { status: 'failed' });
      expect(updated?.status).toBe('failed');
      expect(updated?.leaseOwner).toBeUndefined();
      expect(await repo.countPending()).toBe(2);
      expect((await repo.list('app-1', 'wh-1', { limit: 10 })).map((d) => d.id)).toEqual(['m2', 'm1']);
      expect((await repo.list('app-1', 'wh-1', { limit: 10, before: { createdAt: at(2), id: 'm2' } })).map((d) => d.id)).toEqual(['m1']);
      await repo.deleteByWebhook('app-1', 'wh-1');
      expect(await repo.list('app-1', 'wh-1', { limit: 10 })).toEqual([]);
      expect(await repo.list('app-1', 'wh-2', { limit: 10 })).toHaveLength(1);
      await repo.deleteByApp('app-1');
      expect(await repo.countPending()).toBe(0);
    });

    it('rejects a duplicate id and matches nothing for an operator object', async () => {
      await repo.addMany([delivery()]);
      await expect(repo.addMany([delivery()])).rejects.toBeInstanceOf(ConflictError);
      expect(await repo.find(OPERATOR, OPERATOR)).toBeUndefined();
      expect(await repo.list('app-1', OPERATOR, { limit: 10 })).toEqual([]);
      expect(await repo.settle('app-1', 'msg-1', OPERATOR, { status: 'delivered' })).toBe(false);
    });
  });
}

export function webhookRepositoryContract(make: Factory<WebhookRepository>): void {
  describe('WebhookRepository', () => {
    let repo: WebhookRepository;
    beforeEach(async () => { repo = await make(); });

    it('creates, lists oldest first per app, updates (undefined removes) and deletes', async () => {
      await repo.create(webhook({ id: 'wh-2', createdAt: at(2) }));
      await repo.create(webhook({ id: 'wh-1', createdAt: at(1), failingSince: at(1) }));
      await repo.create(webhook({ appId: 'app-2', id: 'wh-9' }));
      await expect(repo.create(webhook({ id: 'wh-1' }))).rejects.toBeInstanceOf(ConflictError);
      expect((await repo.list('app-1')).map((w) => w.id)).toEqual(['wh-1', 'wh-2']);
      const updated = await repo.update('app-1', 'wh-1', { enabled: false, failingSince: undefined, disabledReason: 'failing' });
      expect(updated).toMatchObject({ enabled: false, disabledReason: 'failing', secrets: [{ ciphertext: 'v1.a.b.c', createdAt: at(0) }] });
      expect(updated?.failingSince).toBeUndefined();
      expect(await repo.update('app-2', 'wh-1', { enabled: false })).toBeUndefined();
      expect(await repo.delete('app-1', 'wh-1')).toBe(true);
      expect(await repo.delete('app-1', 'wh-1')).toBe(false);
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(await repo.list('app-2')).toHaveLength(1);
      expect(await repo.find(OPERATOR, OPERATOR)).toBeUndefined();
    });
  });
}

export function adminKeyRepositoryContract(make: Factory<AdminKeyRepository>): void {
  describe('AdminKeyRepository', () => {
    let repo: AdminKeyRepository;
    beforeEach(async () => { repo = await make(); });

    it('finds by id and secret hash, touches, lists oldest first and deletes', async () => {
      const key = { id: 'key-1', name: 'CI', secretHash: 'h1', scopes: ['apps:read'], apps: ['*'], createdAt: at(1) };
      await repo.create(key);
      await repo.create({ ...key, id: 'key-0', secretHash: 'h0', createdAt: at(0), expiresAt: at(99) });
      await expect(repo.create({ ...key, id: 'key-2' })).rejects.toBeInstanceOf(ConflictError);
      expect(await repo.findBySecretHash('h1')).toEqual(key);
      expect(await repo.findBySecretHash(OPERATOR)).toBeUndefined();
      await repo.touch('key-1', at(5));
      expect((await repo.findById('key-1'))?.lastUsedAt).toEqual(at(5));
      expect((await repo.list()).map((k) => k.id)).toEqual(['key-0', 'key-1']);
      expect(await repo.delete('key-1')).toBe(true);
      expect(await repo.findBySecretHash('h1')).toBeUndefined();
    });
  });
}
