import { chooseTenant } from '../../src/tenants/tenant-choice.js';

const acme = { id: 'ten_acme', slug: 'acme' };
const globex = { id: 'ten_globex', slug: 'globex' };

describe('chooseTenant', () => {
  it('answers unknown_tenant for a tenant= that names no tenant of the app, whatever the memberships', () => {
    expect(chooseTenant({ memberships: [acme], requested: 'nope', requestedExists: false, selectAccount: false }))
      .toEqual({ kind: 'unknown_tenant', requested: 'nope' });
    expect(chooseTenant({ memberships: [], requested: 'nope', requestedExists: false, selectAccount: true }).kind).toBe('unknown_tenant');
  });

  it('answers no_tenant for an account in no tenant, even with select_account or a known tenant=', () => {
    expect(chooseTenant({ memberships: [], selectAccount: false })).toEqual({ kind: 'no_tenant' });
    expect(chooseTenant({ memberships: [], requested: 'acme', requestedExists: true, selectAccount: true })).toEqual({ kind: 'no_tenant' });
  });

  it('lets the person choose when select_account was asked, even with one tenant or a matching tenant=', () => {
    expect(chooseTenant({ memberships: [acme], selectAccount: true })).toEqual({ kind: 'choose', tenantIds: ['ten_acme'] });
    expect(chooseTenant({ memberships: [acme, globex], requested: 'acme', current: 'ten_acme', selectAccount: true }))
      .toEqual({ kind: 'choose', tenantIds: ['ten_acme', 'ten_globex'] });
  });

  it('uses the requested tenant, by slug or id, over the current one (a silent switch)', () => {
    expect(chooseTenant({ memberships: [acme, globex], requested: 'globex', current: 'ten_acme', selectAccount: false }))
      .toEqual({ kind: 'tenant', tenantId: 'ten_globex' });
    expect(chooseTenant({ memberships: [acme, globex], requested: 'ten_globex', requestedExists: true, selectAccount: false }))
      .toEqual({ kind: 'tenant', tenantId: 'ten_globex' });
  });

  it('keeps the current tenant while still a member, and ignores a tenant= of a tenant the account is not in', () => {
    expect(chooseTenant({ memberships: [acme, globex], current: 'ten_globex', selectAccount: false })).toEqual({ kind: 'tenant', tenantId: 'ten_globex' });
    expect(chooseTenant({ memberships: [acme, globex], requested: 'initech', requestedExists: true, current: 'ten_acme', selectAccount: false }))
      .toEqual({ kind: 'tenant', tenantId: 'ten_acme' });
  });

  it('drops a current tenant the account has left', () => {
    expect(chooseTenant({ memberships: [acme], current: 'ten_gone', selectAccount: false })).toEqual({ kind: 'tenant', tenantId: 'ten_acme' });
    expect(chooseTenant({ memberships: [acme, globex], current: 'ten_gone', selectAccount: false }).kind).toBe('choose');
  });

  it('uses the only tenant, and asks among several', () => {
    expect(chooseTenant({ memberships: [acme], selectAccount: false })).toEqual({ kind: 'tenant', tenantId: 'ten_acme' });
    expect(chooseTenant({ memberships: [globex, acme], requested: 'initech', requestedExists: true, selectAccount: false }))
      .toEqual({ kind: 'choose', tenantIds: ['ten_globex', 'ten_acme'] });
  });
});
