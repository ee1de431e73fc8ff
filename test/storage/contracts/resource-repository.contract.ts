/** The ResourceRepository contract (src/storage/ports.ts), run against every durable store. */
import { ConflictError } from '../../../src/errors.js';
import type { ResourceRecord, ResourceRepository } from '../../../src/storage/ports.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const resource = (over: Partial<ResourceRecord> = {}): ResourceRecord => ({
  appId: 'app-1', id: 'res-1', identifier: 'https://api.example.test/tickets', name: 'Tickets API',
  scopes: [{ value: 'tickets:read', description: 'Read tickets' }, { value: 'tickets:write' }],
  accessTokenFormat: 'jwt', accessTokenTtlSeconds: 300, requireDpop: false, isDefault: false,
  roleScopes: { company_admin: ['tickets:read', 'tickets:write'], 'portal.user': ['tickets:read'] },
  createdAt: at(1), updatedAt: at(1), ...over,
});

export function resourceRepositoryContract(make: () => ResourceRepository | Promise<ResourceRepository>): void {
  describe('ResourceRepository', () => {
    let repo: ResourceRepository;
    beforeEach(async () => { repo = await make(); });

    it('stores and finds by id and identifier, scoped by app, listing oldest first', async () => {
      await repo.create(resource({ id: 'res-2', identifier: 'https://api.example.test/billing', createdAt: at(2), updatedAt: at(2) }));
      await repo.create(resource());
      await repo.create(resource({ appId: 'app-2', allowedClients: ['c1'] }));
      expect(await repo.find('app-1', 'res-1')).toEqual(resource());
      expect(await repo.findByIdentifier('app-1', 'https://api.example.test/tickets')).toEqual(resource());
      expect(await repo.findByIdentifier('app-3', 'https://api.example.test/tickets')).toBeUndefined();
      expect(await repo.find('app-3', 'res-1')).toBeUndefined();
      expect((await repo.list('app-1')).map((r) => r.id)).toEqual(['res-1', 'res-2']);
      expect((await repo.find('app-2', 'res-1'))!.allowedClients).toEqual(['c1']);
    });

    it('refuses a second resource with the same id or identifier in one app', async () => {
      await repo.create(resource());
      await expect(repo.create(resource())).rejects.toBeInstanceOf(ConflictError);
      await expect(repo.create(resource({ id: 'res-2' }))).rejects.toBeInstanceOf(ConflictError);
      await repo.create(resource({ id: 'res-3', identifier: 'https://api.example.test/other' }));
      await expect(repo.update('app-1', 'res-3', { identifier: 'https://api.example.test/tickets' })).rejects.toBeInstanceOf(ConflictError);
    });

    it('updates, removes optional fields named with undefined, and returns copies', async () => {
      await repo.create(resource({ allowedClients: ['c1'] }));
      const updated = await repo.update('app-1', 'res-1', { name: 'Tickets', accessTokenTtlSeconds: 60, roleScopes: undefined, allowedClients: undefined });
      expect(updated).toMatchObject({ name: 'Tickets', accessTokenTtlSeconds: 60, identifier: 'https://api.example.test/tickets' });
      expect(updated!.roleScopes).toBeUndefined();
      expect(updated!.allowedClients).toBeUndefined();
      updated!.scopes.push({ value: 'changed' });
      expect((await repo.find('app-1', 'res-1'))!.scopes).toHaveLength(2);
      const unchanged = await repo.update('app-1', 'res-1', { name: undefined });
      expect(unchanged!.name).toBe('Tickets');
      expect(await repo.update('app-1', 'nope', { name: 'x' })).toBeUndefined();
    });

    it('deletes one and per app', async () => {
      await repo.create(resource());
      await repo.create(resource({ id: 'res-2', identifier: 'https://api.example.test/b' }));
      await repo.create(resource({ appId: 'app-2' }));
      expect(await repo.delete('app-1', 'res-2')).toBe(true);
      expect(await repo.delete('app-1', 'res-2')).toBe(false);
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(await repo.list('app-2')).toHaveLength(1);
    });
  });
}
