/**
 * The contracts of upstream connections, identity links and tenants' home-realm domains (src/storage/ports.ts),
 * run against every durable store.
 */
import { ConflictError } from '../../../src/errors.js';
import type {
  ConnectionRecord, ConnectionRepository, IdentityLinkRecord, IdentityLinkRepository, TenantRecord, TenantRepository,
} from '../../../src/storage/ports.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const connection = (over: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  appId: 'app-1', slug: 'google', type: 'oidc', preset: 'google', displayName: 'Google', issuer: 'https://accounts.google.com',
  clientId: 'abc', secretCiphertext: 'v1.a.b.c', tokenEndpointAuthMethod: 'client_secret_basic', scopes: ['openid', 'email'],
  claimMapping: { subject: 'sub', email: 'email', emailVerified: 'email_verified', name: 'name', role: { claim: 'grp', map: { admins: 'company_admin' }, default: 'user' } },
  provisioning: 'create', linkByVerifiedEmail: false, storeTokens: false, enabled: true, createdAt: at(1), updatedAt: at(1), ...over,
});
const link = (over: Partial<IdentityLinkRecord> = {}): IdentityLinkRecord => ({
  appId: 'app-1', id: 'idl-1', accountId: 'acc-1', connection: 'google', issuer: 'https://accounts.google.com', subject: 'g-1', createdAt: at(1), ...over,
});
const tenant = (over: Partial<TenantRecord> = {}): TenantRecord => ({ appId: 'app-1', id: 'ten-1', slug: 'contoso', name: 'Contoso', createdAt: at(0), updatedAt: at(0), ...over });

export function connectionRepositoryContract(make: () => ConnectionRepository | Promise<ConnectionRepository>): void {
  describe('ConnectionRepository', () => {
    let repo: ConnectionRepository;
    beforeEach(async () => { repo = await make(); });

    it('stores and finds by slug within the app; slugs are unique per app', async () => {
      await repo.create(connection());
      await repo.create(connection({ appId: 'app-2' }));
      expect(await repo.find('app-1', 'google')).toEqual(connection());
      expect(await repo.find('app-3', 'google')).toBeUndefined();
      await expect(repo.create(connection({ displayName: 'Other' }))).rejects.toBeInstanceOf(ConflictError);
    });

    it('lists by position (absent last), then oldest first', async () => {
      await repo.create(connection({ slug: 'a', createdAt: at(1) }));
      await repo.create(connection({ slug: 'b', createdAt: at(2) }));
      await repo.create(connection({ slug: 'c', createdAt: at(3), position: 1 }));
      expect((await repo.list('app-1')).map((c) => c.slug)).toEqual(['c', 'a', 'b']);
    });

    it('updates; undefined removes only the removable fields', async () => {
      await repo.create(connection({ position: 3, allowedTenantIds: ['t'] }));
      const updated = await repo.update('app-1', 'google', { displayName: 'Google Workspace', secretCiphertext: undefined, position: undefined, enabled: false, issuer: undefined });
      expect(updated).toMatchObject({ displayName: 'Google Workspace', enabled: false, issuer: 'https://accounts.google.com', allowedTenantIds: ['t'] });
      expect(updated).not.toHaveProperty('secretCiphertext');
      expect(updated).not.toHaveProperty('position');
      expect(await repo.update('app-1', 'missing', { enabled: true })).toBeUndefined();
    });

    it('deletes one and every one of an app', async () => {
      await repo.create(connection());
      await repo.create(connection({ slug: 'ms' }));
      await repo.create(connection({ appId: 'app-2' }));
      expect(await repo.delete('app-1', 'google')).toBe(true);
      expect(await repo.delete('app-1', 'google')).toBe(false);
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(await repo.list('app-2')).toHaveLength(1);
    });
  });
}

export function identityLinkRepositoryContract(make: () => IdentityLinkRepository | Promise<IdentityLinkRepository>): void {
  describe('IdentityLinkRepository', () => {
    let repo: IdentityLinkRepository;
    beforeEach(async () => { repo = await make(); });

    it('finds by (connection, issuer, subject) within the app; one identity is linked once', async () => {
      await repo.create(link());
      await repo.create(link({ appId: 'app-2' }));
      expect(await repo.findByIdentity('app-1', 'google', 'https://accounts.google.com', 'g-1')).toEqual(link());
      expect(await repo.findByIdentity('app-1', 'google', 'https://other.example', 'g-1')).toBeUndefined();
      expect(await repo.findByIdentity('app-3', 'google', 'https://accounts.google.com', 'g-1')).toBeUndefined();
      await expect(repo.create(link({ id: 'idl-2', accountId: 'acc-2' }))).rejects.toBeInstanceOf(ConflictError);
    });

    it('lists an account\'s links oldest first, stores tokens, deletes only the account\'s own link', async () => {
      await repo.create(link({ id: 'idl-2', subject: 'g-2', createdAt: at(2) }));
      await repo.create(link());
      await repo.create(link({ id: 'idl-3', accountId: 'acc-2', subject: 'g-3' }));
      expect((await repo.listByAccount('app-1', 'acc-1')).map((l) => l.id)).toEqual(['idl-1', 'idl-2']);
      await repo.setTokens('app-1', 'idl-1', 'v1.x.y.z');
      expect((await repo.listByAccount('app-1', 'acc-1'))[0].tokensCiphertext).toBe('v1.x.y.z');
      expect(await repo.delete('app-1', 'acc-2', 'idl-1')).toBe(false);
      expect(await repo.delete('app-1', 'acc-1', 'idl-1')).toBe(true);
      await repo.deleteByConnection('app-1', 'google');
      expect(await repo.listByAccount('app-1', 'acc-1')).toEqual([]);
      await repo.create(link({ id: 'idl-4', connection: 'ms' }));
      await repo.deleteByAccount('app-1', 'acc-1');
      await repo.deleteByApp('app-1');
      expect(await repo.listByAccount('app-1', 'acc-1')).toEqual([]);
    });
  });
}

export function tenantDomainContract(make: () => TenantRepository | Promise<TenantRepository>): void {
  describe('TenantRepository: home realm domains', () => {
    let repo: TenantRepository;
    beforeEach(async () => { repo = await make(); });

    it('finds the tenant of a domain within the app; a domain belongs to one tenant of an app', async () => {
      await repo.create(tenant({ connection: 'entra', domains: ['contoso.com', 'contoso.co.uk'] }));
      await repo.create(tenant({ appId: 'app-2', domains: ['contoso.com'] }));
      await repo.create(tenant({ id: 'ten-2', slug: 'fabrikam' }));
      expect((await repo.findByDomain('app-1', 'contoso.co.uk'))?.id).toBe('ten-1');
      expect(await repo.findByDomain('app-1', 'fabrikam.com')).toBeUndefined();
      await expect(repo.create(tenant({ id: 'ten-3', slug: 'copy', domains: ['contoso.com'] }))).rejects.toBeInstanceOf(ConflictError);
      await expect(repo.update('app-1', 'ten-2', { domains: ['contoso.co.uk'] })).rejects.toBeInstanceOf(ConflictError);
      expect((await repo.update('app-1', 'ten-2', { domains: ['fabrikam.com'] }))?.domains).toEqual(['fabrikam.com']);
      expect((await repo.update('app-1', 'ten-1', { domains: ['contoso.com'] }))?.domains).toEqual(['contoso.com']);
      expect(await repo.findByDomain('app-1', 'contoso.co.uk')).toBeUndefined();
    });

    it('finds the tenants that own a connection, within the app', async () => {
      await repo.create(tenant({ connection: 'entra' }));
      await repo.create(tenant({ id: 'ten-2', slug: 'b', connection: 'okta', createdAt: at(1) }));
      await repo.create(tenant({ id: 'ten-3', slug: 'c', connection: 'entra', createdAt: at(2) }));
      await repo.create(tenant({ appId: 'app-2', connection: 'entra' }));
      expect((await repo.findByConnection('app-1', 'entra')).map((t) => t.id)).toEqual(['ten-1', 'ten-3']);
      await repo.update('app-1', 'ten-1', { connection: '' });
      expect((await repo.findByConnection('app-1', 'entra')).map((t) => t.id)).toEqual(['ten-3']);
      expect(await repo.findByConnection('app-3', 'entra')).toEqual([]);
    });
  });
}
