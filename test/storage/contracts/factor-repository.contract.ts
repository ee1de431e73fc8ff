/** The FactorRepository contract (src/storage/ports.ts), run against every store. */
import { ConflictError } from '../../../src/errors.js';
import type { FactorRecord, FactorRepository } from '../../../src/storage/ports.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const factor = (over: Partial<FactorRecord> = {}): FactorRecord => ({
  appId: 'app-1', id: 'fac-1', accountId: 'acc-1', type: 'totp', name: 'Authenticator app', secretCiphertext: 'v1.x.y.z',
  createdAt: at(1), updatedAt: at(1), ...over,
});

export function factorRepositoryContract(make: () => FactorRepository | Promise<FactorRepository>): void {
  describe('FactorRepository', () => {
    let repo: FactorRepository;
    beforeEach(async () => { repo = await make(); });

    it('stores, finds and lists per account, oldest first, scoped by app', async () => {
      await repo.create(factor({ id: 'fac-2', createdAt: at(2), updatedAt: at(2) }));
      await repo.create(factor());
      await repo.create(factor({ appId: 'app-2' }));
      await repo.create(factor({ id: 'fac-3', accountId: 'acc-2' }));
      expect((await repo.listByAccount('app-1', 'acc-1')).map((f) => f.id)).toEqual(['fac-1', 'fac-2']);
      expect(await repo.findById('app-1', 'fac-1')).toEqual(factor());
      expect(await repo.findById('app-3', 'fac-1')).toBeUndefined();
    });

    it('refuses a duplicate id and a credential id registered twice in one app', async () => {
      await repo.create(factor());
      await expect(repo.create(factor())).rejects.toBeInstanceOf(ConflictError);
      await repo.create(factor({ id: 'fac-w1', type: 'webauthn', credentialId: 'cred-1', publicKey: 'pk', counter: 0 }));
      await expect(repo.create(factor({ id: 'fac-w2', type: 'webauthn', credentialId: 'cred-1', publicKey: 'pk', counter: 0 }))).rejects.toBeInstanceOf(ConflictError);
      expect((await repo.findByCredentialId('app-1', 'cred-1'))?.id).toBe('fac-w1');
      expect(await repo.findByCredentialId('app-2', 'cred-1')).toBeUndefined();
    });

    it('updates, returning copies', async () => {
      await repo.create(factor());
      const updated = await repo.update('app-1', 'fac-1', { lastUsedAt: at(5), counter: 3 });
      expect(updated).toMatchObject({ lastUsedAt: at(5), counter: 3 });
      updated!.name = 'changed';
      expect((await repo.findById('app-1', 'fac-1'))!.name).toBe('Authenticator app');
      expect(await repo.update('app-1', 'nope', { counter: 1 })).toBeUndefined();
    });

    it('takes a recovery code once, even concurrently', async () => {
      await repo.create(factor({ id: 'fac-r', type: 'recovery_codes', secretCiphertext: undefined, codeHashes: ['h1', 'h2', 'h3'] }));
      const results = await Promise.all([1, 2, 3].map(() => repo.takeRecoveryCode('app-1', 'fac-r', 'h2', at(9))));
      expect(results.filter((r) => r !== undefined)).toEqual([2]);
      expect(await repo.takeRecoveryCode('app-1', 'fac-r', 'h9', at(9))).toBeUndefined();
      expect(await repo.takeRecoveryCode('app-2', 'fac-r', 'h1', at(9))).toBeUndefined();
      expect((await repo.findById('app-1', 'fac-r'))).toMatchObject({ codeHashes: ['h1', 'h3'], lastUsedAt: at(9) });
    });

    it('deletes one, per account (counting), and per app', async () => {
      await repo.create(factor());
      await repo.create(factor({ id: 'fac-2' }));
      await repo.create(factor({ id: 'fac-3', accountId: 'acc-2' }));
      await repo.create(factor({ appId: 'app-2' }));
      expect(await repo.delete('app-1', 'fac-3')).toBe(true);
      expect(await repo.delete('app-1', 'fac-3')).toBe(false);
      expect(await repo.deleteByAccount('app-1', 'acc-1')).toBe(2);
      expect(await repo.listByAccount('app-1', 'acc-1')).toEqual([]);
      await repo.deleteByApp('app-2');
      expect(await repo.findById('app-2', 'fac-1')).toBeUndefined();
    });
  });
}
