/**
 * The durable repository contracts (see `src/storage/ports.ts`), one suite per port, run against every
 * implementation by `../repositories.contract.test.ts`. Each suite takes a factory called before every test; it must
 * return a repository over empty storage.
 *
 * Every suite also checks that an operator object smuggled in where a string id belongs (`{ $gt: '' }`, as a JSON
 * body could carry) matches nothing: the contract says arguments are plain values and never reach a query as objects.
 */
import { ConflictError } from '../../../src/errors.js';
import type {
  AccountRecord, AccountRepository, AppKeysRecord, AppKeysRepository, AppRecord, AppRepository, AuditEvent,
  AuditRepository, ClientRecord, ClientRepository, InvitationRecord, InvitationRepository, MembershipRecord,
  OutboxMessage, OutboxRepository, PartnerRecord, PartnerRepository, TenantRecord, TenantRepository,
} from '../../../src/storage/ports.js';

export type Factory<T> = () => T | Promise<T>;

/** What a hostile JSON body could put where an id belongs. */
const OPERATOR = { $gt: '' } as unknown as string;

const T0 = Date.UTC(2024, 0, 1);
/** A fixed instant `seconds` after T0: lists are ordered by `createdAt`, so tests choose it. */
const at = (seconds: number) => new Date(T0 + seconds * 1000);

function app(overrides: Partial<AppRecord> = {}): AppRecord {
  return {
    id: 'app-1',
    slug: 'acme',
    name: 'Acme',
    settings: {
      login_methods: ['password', 'email_code'],
      registration: 'open',
      accounts_per_email: 'one',
      session_ttl_seconds: 3600,
      messaging: { mode: 'simulate', sender_name: 'Acme' },
      locale: 'en',
    },
    version: 1,
    createdAt: at(0),
    updatedAt: at(1),
    ...overrides,
  };
}

function client(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    appId: 'app-1',
    clientId: 'portal',
    name: 'Portal',
    redirectUris: ['https://portal.example/cb'],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code', 'refresh_token'],
    tokenEndpointAuthMethod: 'none',
    firstParty: true,
    requirePkce: true,
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

function account(overrides: Partial<AccountRecord> = {}): AccountRecord {
  return {
    appId: 'app-1',
    id: 'acc-a',
    email: 'ada@example.com',
    emailVerified: true,
    phoneVerified: false,
    status: 'active',
    optedOut: false,
    createdAt: at(0),
    updatedAt: at(0),
    loginCount: 0,
    ...overrides,
  };
}

function tenant(overrides: Partial<TenantRecord> = {}): TenantRecord {
  return { appId: 'app-1', id: 'ten-1', slug: 'north', name: 'North', createdAt: at(0), updatedAt: at(0), ...overrides };
}

function membership(overrides: Partial<MembershipRecord> = {}): MembershipRecord {
  return {
    appId: 'app-1', tenantId: 'ten-1', accountId: 'acc-a', roles: ['member'], createdAt: at(0), updatedAt: at(0), ...overrides,
  };
}

function invitation(overrides: Partial<InvitationRecord> = {}): InvitationRecord {
  return {
    appId: 'app-1',
    id: 'inv-1',
    accountId: 'acc-a',
    email: 'ada@example.com',
    tokenHash: 'hash-1',
    status: 'pending',
    expiresAt: at(86_400),
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

function partner(overrides: Partial<PartnerRecord> = {}): PartnerRecord {
  return {
    appId: 'app-1',
    slug: 'hub',
    name: 'Hub',
    issuer: 'https://hub.example',
    secretCiphertext: 'v1.a.b.c',
    algorithms: ['HS256'],
    requiredClaims: { context: 'client_portal' },
    maxTokenAgeSeconds: 70,
    clockSkewSeconds: 5,
    provisioning: 'create',
    claimMapping: { subject: 'sub', email: 'email', externalIds: { 'hub_user_id': 'sub' } },
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

function message(overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    appId: 'app-1',
    id: 'msg-1',
    channel: 'email',
    to: 'ada@example.com',
    subject: 'Your code',
    text: 'Your code is 123456',
    status: 'simulated',
    attempts: 0,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 3_600_000),
    ...overrides,
  };
}

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return { appId: 'app-1', id: 'evt-1', type: 'login.succeeded', accountId: 'acc-a', createdAt: at(0), ...overrides };
}

const ids = <T extends { id: string }>(records: T[]) => records.map((r) => r.id);

/**
 * Asserts an updated record: equal to `expected` except `updatedAt`, which must be a time at or after `since`.
 * (Not `expect.any(Date)`: the memory store's structuredClone returns Dates of Node's realm, not the test VM's.)
 */
function expectUpdated<T extends { updatedAt: Date }>(actual: T | undefined, expected: T, since: number): void {
  expect(actual).toBeDefined();
  const { updatedAt, ...rest } = actual!;
  const { updatedAt: _ignored, ...expectedRest } = expected;
  expect(rest).toEqual(expectedRest);
  expect(new Date(updatedAt).getTime()).toBeGreaterThanOrEqual(since);
}

export function appRepositoryContract(make: Factory<AppRepository>): void {
  describe('AppRepository', () => {
    let repo: AppRepository;
    beforeEach(async () => { repo = await make(); });

    it('finds a created app by id and by slug, and nothing for unknown ones', async () => {
      await repo.create(app());
      expect(await repo.findById('app-1')).toEqual(app());
      expect(await repo.findBySlug('acme')).toEqual(app());
      expect(await repo.findById('app-2')).toBeUndefined();
      expect(await repo.findBySlug('other')).toBeUndefined();
    });

    it('rejects a duplicate id or slug with ConflictError', async () => {
      await repo.create(app());
      await expect(repo.create(app({ slug: 'other' }))).rejects.toBeInstanceOf(ConflictError);
      await expect(repo.create(app({ id: 'app-2' }))).rejects.toBeInstanceOf(ConflictError);
      expect(await repo.list()).toHaveLength(1);
    });

    it('lists apps oldest first', async () => {
      await repo.create(app({ id: 'b', slug: 'b', createdAt: at(20) }));
      await repo.create(app({ id: 'a', slug: 'a', createdAt: at(10) }));
      await repo.create(app({ id: 'c', slug: 'c', createdAt: at(30) }));
      expect(ids(await repo.list())).toEqual(['a', 'b', 'c']);
    });

    it('applies an update, increments version and refreshes updatedAt', async () => {
      await repo.create(app());
      const before = Date.now();
      const settings = { ...app().settings, registration: 'closed' as const, login_methods: ['password' as const] };
      const updated = await repo.update('app-1', { name: 'Acme Ltd', settings });
      expectUpdated(updated, { ...app(), name: 'Acme Ltd', settings, version: 2 }, before);
      expect(await repo.findById('app-1')).toEqual(updated);
      expect(await repo.update('missing', { name: 'x' })).toBeUndefined();
    });

    it('touch increments version only', async () => {
      await repo.create(app());
      expect((await repo.touch('app-1'))?.version).toBe(2);
      const touched = await repo.touch('app-1');
      expect(touched).toMatchObject({ name: 'Acme', settings: app().settings, version: 3 });
      expect(await repo.touch('missing')).toBeUndefined();
    });

    it('counts every one of concurrent updates in version', async () => {
      await repo.create(app());
      await Promise.all(Array.from({ length: 10 }, () => repo.touch('app-1')));
      expect((await repo.findById('app-1'))?.version).toBe(11);
    });

    it('reports versions of the apps that exist', async () => {
      await repo.create(app());
      await repo.create(app({ id: 'app-2', slug: 'two', version: 7 }));
      expect(await repo.versions(['app-1', 'app-2', 'gone'])).toEqual(new Map([['app-1', 1], ['app-2', 7]]));
      expect(await repo.versions([])).toEqual(new Map());
    });

    it('deletes', async () => {
      await repo.create(app());
      expect(await repo.delete('app-1')).toBe(true);
      expect(await repo.delete('app-1')).toBe(false);
      expect(await repo.findById('app-1')).toBeUndefined();
      await repo.create(app());
      expect(await repo.findBySlug('acme')).toEqual(app());
    });

    it('stores copies: neither the input nor a returned record is a live reference', async () => {
      const input = app();
      await repo.create(input);
      input.name = 'changed';
      input.settings.login_methods.push('magic_link');
      const found = (await repo.findById('app-1'))!;
      expect(found).toEqual(app());
      found.settings.messaging.mode = 'deliver';
      expect(await repo.findById('app-1')).toEqual(app());
    });

    it('matches nothing for an operator object in place of an id', async () => {
      await repo.create(app());
      expect(await repo.findById(OPERATOR)).toBeUndefined();
      expect(await repo.findBySlug(OPERATOR)).toBeUndefined();
      expect(await repo.versions([OPERATOR])).toEqual(new Map());
      expect(await repo.update(OPERATOR, { name: 'x' })).toBeUndefined();
      expect(await repo.delete(OPERATOR)).toBe(false);
      expect(await repo.findById('app-1')).toEqual(app());
    });
  });
}

export function appKeysRepositoryContract(make: Factory<AppKeysRepository>): void {
  describe('AppKeysRepository', () => {
    let repo: AppKeysRepository;
    beforeEach(async () => { repo = await make(); });

    const keys = (overrides: Partial<AppKeysRecord> = {}): AppKeysRecord => ({
      appId: 'app-1',
      jwks: [{ kty: 'EC', crv: 'P-256', kid: 'k1', d: 'secret', x: 'x', y: 'y' }, { kty: 'RSA', kid: 'k2', n: 'n', e: 'AQAB' }],
      cookieKeys: ['newest', 'older'],
      createdAt: at(0),
      ...overrides,
    });

    it('returns what was put, replaces it on a second put, and deletes it', async () => {
      expect(await repo.get('app-1')).toBeUndefined();
      await repo.put(keys());
      expect(await repo.get('app-1')).toEqual(keys());
      const rotated = keys({ cookieKeys: ['rotated', 'newest'], jwks: [{ kty: 'EC', kid: 'k3' }], createdAt: at(5) });
      await repo.put(rotated);
      expect(await repo.get('app-1')).toEqual(rotated);
      await repo.delete('app-1');
      expect(await repo.get('app-1')).toBeUndefined();
      await expect(repo.delete('app-1')).resolves.toBeUndefined();
    });

    it('keeps apps apart', async () => {
      await repo.put(keys());
      await repo.put(keys({ appId: 'app-2', cookieKeys: ['other'] }));
      expect((await repo.get('app-1'))?.cookieKeys).toEqual(['newest', 'older']);
      await repo.delete('app-2');
      expect(await repo.get('app-1')).toEqual(keys());
    });

    it('stores copies', async () => {
      const input = keys();
      await repo.put(input);
      input.cookieKeys.push('injected');
      const found = (await repo.get('app-1'))!;
      found.jwks[0].d = 'stolen';
      expect(await repo.get('app-1')).toEqual(keys());
    });

    it('matches nothing for an operator object in place of an id', async () => {
      await repo.put(keys());
      expect(await repo.get(OPERATOR)).toBeUndefined();
      await repo.delete(OPERATOR);
      expect(await repo.get('app-1')).toEqual(keys());
    });
  });
}

export function clientRepositoryContract(make: Factory<ClientRepository>): void {
  describe('ClientRepository', () => {
    let repo: ClientRepository;
    beforeEach(async () => { repo = await make(); });

    it('finds a created client; a public client has no secret field', async () => {
      await repo.create(client());
      const found = await repo.find('app-1', 'portal');
      expect(found).toEqual(client());
      expect(found).not.toHaveProperty('secretCiphertext');
      expect(await repo.find('app-1', 'other')).toBeUndefined();
    });

    it('keeps optional fields of a confidential client', async () => {
      const confidential = client({
        clientId: 'backend', secretCiphertext: 'v1.cipher', tokenEndpointAuthMethod: 'client_secret_basic',
        initiateLoginUri: 'https://portal.example/login',
      });
      await repo.create(confidential);
      expect(await repo.find('app-1', 'backend')).toEqual(confidential);
    });

    it('rejects a duplicate client id within an app, allows it in another app', async () => {
      await repo.create(client());
      await expect(repo.create(client({ name: 'Again' }))).rejects.toBeInstanceOf(ConflictError);
      await repo.create(client({ appId: 'app-2', name: 'Other app' }));
      expect((await repo.find('app-1', 'portal'))?.name).toBe('Portal');
      expect((await repo.find('app-2', 'portal'))?.name).toBe('Other app');
    });

    it('lists the clients of one app, oldest first', async () => {
      await repo.create(client({ clientId: 'b', createdAt: at(2) }));
      await repo.create(client({ clientId: 'a', createdAt: at(1) }));
      await repo.create(client({ appId: 'app-2', clientId: 'z' }));
      expect((await repo.list('app-1')).map((c) => c.clientId)).toEqual(['a', 'b']);
      expect(await repo.list('app-3')).toEqual([]);
    });

    it('updates within the app only, refreshing updatedAt', async () => {
      await repo.create(client());
      await repo.create(client({ appId: 'app-2' }));
      const before = Date.now();
      const updated = await repo.update('app-1', 'portal', { name: 'Renamed', redirectUris: ['https://new.example/cb'] });
      expectUpdated(updated, { ...client(), name: 'Renamed', redirectUris: ['https://new.example/cb'] }, before);
      expect(await repo.find('app-1', 'portal')).toEqual(updated);
      expect(await repo.find('app-2', 'portal')).toEqual(client({ appId: 'app-2' }));
      expect(await repo.update('app-1', 'missing', { name: 'x' })).toBeUndefined();
    });

    it('deletes one client, or every client of an app', async () => {
      await repo.create(client());
      await repo.create(client({ clientId: 'second' }));
      await repo.create(client({ appId: 'app-2' }));
      expect(await repo.delete('app-1', 'portal')).toBe(true);
      expect(await repo.delete('app-1', 'portal')).toBe(false);
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(await repo.list('app-2')).toHaveLength(1);
    });

    it('stores copies', async () => {
      const input = client();
      await repo.create(input);
      input.redirectUris.push('https://evil.example/cb');
      const found = (await repo.find('app-1', 'portal'))!;
      found.grantTypes.push('implicit');
      expect(await repo.find('app-1', 'portal')).toEqual(client());
    });

    it('matches nothing for an operator object in place of an id', async () => {
      await repo.create(client());
      expect(await repo.find('app-1', OPERATOR)).toBeUndefined();
      expect(await repo.find(OPERATOR, 'portal')).toBeUndefined();
      expect(await repo.list(OPERATOR)).toEqual([]);
      expect(await repo.update('app-1', OPERATOR, { name: 'x' })).toBeUndefined();
      expect(await repo.delete(OPERATOR, OPERATOR)).toBe(false);
      await repo.deleteByApp(OPERATOR);
      expect(await repo.find('app-1', 'portal')).toEqual(client());
    });
  });
}

export function accountRepositoryContract(make: Factory<AccountRepository>): void {
  describe('AccountRepository', () => {
    let repo: AccountRepository;
    beforeEach(async () => { repo = await make(); });

    it('finds a created account; absent optional fields stay absent', async () => {
      await repo.create(account());
      const found = await repo.findById('app-1', 'acc-a');
      expect(found).toEqual(account());
      expect(found).not.toHaveProperty('phone');
      expect(found).not.toHaveProperty('uniqueEmail');
      expect(await repo.findById('app-1', 'acc-z')).toBeUndefined();
      expect(await repo.findById('app-2', 'acc-a')).toBeUndefined();
    });

    it('rejects a duplicate id within an app', async () => {
      await repo.create(account());
      await expect(repo.create(account({ email: 'other@example.com' }))).rejects.toBeInstanceOf(ConflictError);
    });

    it('enforces one account per uniqueEmail within an app only', async () => {
      await repo.create(account({ uniqueEmail: 'ada@example.com' }));
      await expect(repo.create(account({ id: 'acc-b', uniqueEmail: 'ada@example.com' }))).rejects.toBeInstanceOf(ConflictError);
      await repo.create(account({ appId: 'app-2', uniqueEmail: 'ada@example.com' }));
      expect(await repo.findById('app-1', 'acc-b')).toBeUndefined();
      expect(await repo.findById('app-2', 'acc-a')).toBeDefined();
    });

    it('allows several accounts with one email when uniqueEmail is absent, oldest first', async () => {
      await repo.create(account({ id: 'acc-b', createdAt: at(20) }));
      await repo.create(account({ id: 'acc-a', createdAt: at(10) }));
      await repo.create(account({ id: 'acc-c', email: 'bob@example.com' }));
      await repo.create(account({ appId: 'app-2', id: 'acc-x' }));
      expect(ids(await repo.findByEmail('app-1', 'ada@example.com'))).toEqual(['acc-a', 'acc-b']);
      expect(await repo.findByEmail('app-1', 'nobody@example.com')).toEqual([]);
    });

    it('finds by phone within the app', async () => {
      await repo.create(account({ phone: '+15550001111' }));
      await repo.create(account({ id: 'acc-b', phone: '+15550002222' }));
      await repo.create(account({ appId: 'app-2', phone: '+15550001111' }));
      expect(await repo.findByPhone('app-1', '+15550001111')).toEqual([account({ phone: '+15550001111' })]);
      expect(await repo.findByPhone('app-1', '+15559999999')).toEqual([]);
    });

    it('lists by id with email filter, limit and after', async () => {
      for (const id of ['acc-c', 'acc-a', 'acc-d', 'acc-b']) {
        await repo.create(account({ id, email: id === 'acc-d' ? 'dan@example.com' : 'ada@example.com' }));
      }
      await repo.create(account({ appId: 'app-2', id: 'acc-0' }));
      expect(ids(await repo.list('app-1'))).toEqual(['acc-a', 'acc-b', 'acc-c', 'acc-d']);
      expect(ids(await repo.list('app-1', { email: 'ada@example.com' }))).toEqual(['acc-a', 'acc-b', 'acc-c']);
      expect(ids(await repo.list('app-1', { limit: 2 }))).toEqual(['acc-a', 'acc-b']);
      expect(ids(await repo.list('app-1', { after: 'acc-b', limit: 1 }))).toEqual(['acc-c']);
      expect(ids(await repo.list('app-1', { after: 'acc-d' }))).toEqual([]);
    });

    it('updates, ignoring undefined values, and removes uniqueEmail when the patch sets it undefined', async () => {
      await repo.create(account({ uniqueEmail: 'ada@example.com', name: 'Ada' }));
      const before = Date.now();
      const updated = await repo.update('app-1', 'acc-a', { name: undefined, phone: '+15550001111', uniqueEmail: undefined });
      expectUpdated(updated, account({ name: 'Ada', phone: '+15550001111' }), before);
      expect(updated).not.toHaveProperty('uniqueEmail');
      expect(await repo.findById('app-1', 'acc-a')).toEqual(updated);
      // The email is free again for an account that claims it.
      await repo.create(account({ id: 'acc-b', uniqueEmail: 'ada@example.com' }));
      expect(await repo.update('app-1', 'missing', { name: 'x' })).toBeUndefined();
    });

    it('rejects an update to a uniqueEmail another account holds', async () => {
      await repo.create(account({ uniqueEmail: 'ada@example.com' }));
      await repo.create(account({ id: 'acc-b', email: 'bob@example.com', uniqueEmail: 'bob@example.com' }));
      await expect(repo.update('app-1', 'acc-b', { uniqueEmail: 'ada@example.com' })).rejects.toBeInstanceOf(ConflictError);
      expect((await repo.findById('app-1', 'acc-b'))?.uniqueEmail).toBe('bob@example.com');
    });

    it('records logins atomically without touching updatedAt', async () => {
      await repo.create(account());
      await repo.recordLogin('app-1', 'acc-a', at(100));
      await Promise.all(Array.from({ length: 5 }, () => repo.recordLogin('app-1', 'acc-a', at(200))));
      const found = await repo.findById('app-1', 'acc-a');
      expect(found).toEqual(account({ loginCount: 6, lastLoginAt: at(200) }));
      await expect(repo.recordLogin('app-1', 'missing', at(1))).resolves.toBeUndefined();
      expect(await repo.findById('app-1', 'missing')).toBeUndefined();
    });

    it('deletes one account, or every account of an app', async () => {
      await repo.create(account());
      await repo.create(account({ id: 'acc-b' }));
      await repo.create(account({ appId: 'app-2' }));
      expect(await repo.delete('app-1', 'acc-a')).toBe(true);
      expect(await repo.delete('app-1', 'acc-a')).toBe(false);
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(ids(await repo.list('app-2'))).toEqual(['acc-a']);
    });

    it('finds an account by (partner, subject), unique within the app, and keeps its external ids', async () => {
      const linked = account({ partnerLinks: [{ partner: 'hub', subject: 'u-1' }], externalIds: { hub_user_id: 'u-1', psa_contact_id: '42' } });
      await repo.create(linked);
      await repo.create(account({ appId: 'app-2', partnerLinks: [{ partner: 'hub', subject: 'u-1' }] }));
      expect(await repo.findByPartnerSubject('app-1', 'hub', 'u-1')).toEqual(linked);
      expect(await repo.findByPartnerSubject('app-1', 'hub', 'u-2')).toBeUndefined();
      expect(await repo.findByPartnerSubject('app-1', 'other', 'u-1')).toBeUndefined();
      await expect(repo.create(account({ id: 'acc-b', partnerLinks: [{ partner: 'hub', subject: 'u-1' }] }))).rejects.toBeInstanceOf(ConflictError);
      await repo.create(account({ id: 'acc-c', partnerLinks: [{ partner: 'hub', subject: 'u-3' }] }));
      await expect(repo.update('app-1', 'acc-c', { partnerLinks: [{ partner: 'hub', subject: 'u-1' }] })).rejects.toBeInstanceOf(ConflictError);
      const updated = await repo.update('app-1', 'acc-a', { externalIds: { hub_user_id: 'u-1', psa_contact_id: '43' } });
      expect(updated?.externalIds).toEqual({ hub_user_id: 'u-1', psa_contact_id: '43' });
      // Partner and subject must match in the same link entry.
      await repo.create(account({ id: 'acc-d', partnerLinks: [{ partner: 'hub', subject: 'x' }, { partner: 'psa', subject: 'y' }] }));
      expect(await repo.findByPartnerSubject('app-1', 'hub', 'y')).toBeUndefined();
      expect((await repo.findByPartnerSubject('app-1', 'psa', 'y'))?.id).toBe('acc-d');
      expect(await repo.findByPartnerSubject('app-1', OPERATOR, OPERATOR)).toBeUndefined();
      expect(await repo.findByPartnerSubject(OPERATOR, 'hub', 'u-1')).toBeUndefined();
    });

    it('stores copies', async () => {
      const input = account();
      await repo.create(input);
      input.email = 'changed@example.com';
      const found = (await repo.findById('app-1', 'acc-a'))!;
      found.status = 'deactivated';
      expect(await repo.findById('app-1', 'acc-a')).toEqual(account());
    });

    it('matches nothing for an operator object in place of an id, email or phone', async () => {
      await repo.create(account({ phone: '+15550001111' }));
      expect(await repo.findById('app-1', OPERATOR)).toBeUndefined();
      expect(await repo.findById(OPERATOR, 'acc-a')).toBeUndefined();
      expect(await repo.findByEmail('app-1', OPERATOR)).toEqual([]);
      expect(await repo.findByPhone('app-1', OPERATOR)).toEqual([]);
      expect(await repo.list('app-1', { email: OPERATOR })).toEqual([]);
      expect(await repo.list(OPERATOR)).toEqual([]);
      expect(await repo.update('app-1', OPERATOR, { name: 'x' })).toBeUndefined();
      await repo.recordLogin('app-1', OPERATOR, at(1));
      expect(await repo.delete('app-1', OPERATOR)).toBe(false);
      expect(await repo.findById('app-1', 'acc-a')).toEqual(account({ phone: '+15550001111' }));
    });
  });
}

export function tenantRepositoryContract(make: Factory<TenantRepository>): void {
  describe('TenantRepository (tenants and memberships)', () => {
    let repo: TenantRepository;
    beforeEach(async () => { repo = await make(); });

    it('finds a tenant by external id within the app; external ids are unique when set', async () => {
      await repo.create(tenant({ externalId: 'psa-7' }));
      await repo.create(tenant({ id: 'ten-2', slug: 'south' }));
      await repo.create(tenant({ id: 'ten-3', slug: 'east' }));
      await repo.create(tenant({ appId: 'app-2', externalId: 'psa-8' }));
      expect((await repo.findByExternalId('app-1', 'psa-7'))?.id).toBe('ten-1');
      expect(await repo.findByExternalId('app-1', 'psa-8')).toBeUndefined();
      expect(await repo.findByExternalId('app-1', OPERATOR)).toBeUndefined();
      await expect(repo.create(tenant({ id: 'ten-4', slug: 'west', externalId: 'psa-7' }))).rejects.toBeInstanceOf(ConflictError);
      await expect(repo.update('app-1', 'ten-2', { externalId: 'psa-7' })).rejects.toBeInstanceOf(ConflictError);
      expect((await repo.update('app-1', 'ten-2', { externalId: 'psa-9' }))?.externalId).toBe('psa-9');
    });

    it('keeps a tenant\'s branding and role names, and replaces them on update', async () => {
      const branding = { display_name: 'North Hub', primary_color: '#1e3a8a', logo_url: 'data:image/png;base64,iVBORw0KGgo=' };
      await repo.create(tenant({ branding, roleNames: { user: 'Member' } }));
      expect(await repo.findById('app-1', 'ten-1')).toMatchObject({ branding, roleNames: { user: 'Member' } });
      const updated = await repo.update('app-1', 'ten-1', { branding: { primary_color: '#7c2d12' }, roleNames: {} });
      expect(updated).toMatchObject({ branding: { primary_color: '#7c2d12' }, roleNames: {} });
      expect((await repo.findBySlug('app-1', 'north'))?.branding).toEqual({ primary_color: '#7c2d12' });
    });

    it('finds a created tenant by id and slug within its app', async () => {
      await repo.create(tenant());
      expect(await repo.findById('app-1', 'ten-1')).toEqual(tenant());
      expect(await repo.findBySlug('app-1', 'north')).toEqual(tenant());
      expect(await repo.findById('app-2', 'ten-1')).toBeUndefined();
      expect(await repo.findBySlug('app-2', 'north')).toBeUndefined();
    });

    it('rejects a duplicate id or slug within an app, allows them in another app', async () => {
      await repo.create(tenant());
      await expect(repo.create(tenant({ slug: 'south' }))).rejects.toBeInstanceOf(ConflictError);
      await expect(repo.create(tenant({ id: 'ten-2' }))).rejects.toBeInstanceOf(ConflictError);
      await repo.create(tenant({ appId: 'app-2' }));
      expect(await repo.list('app-1')).toHaveLength(1);
      expect(await repo.list('app-2')).toHaveLength(1);
    });

    it('finds many by id and lists, oldest first, within the app', async () => {
      await repo.create(tenant({ id: 'ten-2', slug: 's2', createdAt: at(2) }));
      await repo.create(tenant({ id: 'ten-1', slug: 's1', createdAt: at(1) }));
      await repo.create(tenant({ id: 'ten-3', slug: 's3', createdAt: at(3) }));
      await repo.create(tenant({ appId: 'app-2', id: 'ten-1', slug: 's1' }));
      expect(ids(await repo.findManyByIds('app-1', ['ten-3', 'ten-1', 'unknown']))).toEqual(['ten-1', 'ten-3']);
      expect(await repo.findManyByIds('app-1', [])).toEqual([]);
      expect(ids(await repo.list('app-1'))).toEqual(['ten-1', 'ten-2', 'ten-3']);
    });

    it('updates, and rejects a slug taken in the app', async () => {
      await repo.create(tenant());
      await repo.create(tenant({ id: 'ten-2', slug: 'south' }));
      const before = Date.now();
      const updated = await repo.update('app-1', 'ten-1', { name: 'North Region' });
      expectUpdated(updated, tenant({ name: 'North Region' }), before);
      expect(await repo.findById('app-1', 'ten-1')).toEqual(updated);
      await expect(repo.update('app-1', 'ten-2', { slug: 'north' })).rejects.toBeInstanceOf(ConflictError);
      expect(await repo.update('app-1', 'missing', { name: 'x' })).toBeUndefined();
    });

    it('putMember inserts, then replaces the roles of the same membership', async () => {
      await repo.create(tenant());
      expect(await repo.putMember(membership())).toEqual(membership());
      expect(await repo.findMember('app-1', 'ten-1', 'acc-a')).toEqual(membership());
      const before = Date.now();
      const replaced = await repo.putMember(membership({ roles: ['admin', 'billing'], createdAt: at(50), updatedAt: at(50) }));
      expectUpdated(replaced, membership({ roles: ['admin', 'billing'] }), before);
      expect(await repo.findMember('app-1', 'ten-1', 'acc-a')).toEqual(replaced);
      expect(await repo.listMembers('app-1', 'ten-1')).toEqual([replaced]);
    });

    it('lists members of a tenant and memberships of an account, oldest first', async () => {
      await repo.putMember(membership({ accountId: 'acc-b', createdAt: at(2) }));
      await repo.putMember(membership({ accountId: 'acc-a', createdAt: at(1) }));
      await repo.putMember(membership({ tenantId: 'ten-2', accountId: 'acc-a', createdAt: at(3) }));
      await repo.putMember(membership({ appId: 'app-2', accountId: 'acc-a' }));
      expect((await repo.listMembers('app-1', 'ten-1')).map((m) => m.accountId)).toEqual(['acc-a', 'acc-b']);
      expect((await repo.listMembershipsOfAccount('app-1', 'acc-a')).map((m) => m.tenantId)).toEqual(['ten-1', 'ten-2']);
      expect(await repo.findMember('app-1', 'ten-1', 'acc-z')).toBeUndefined();
    });

    it('removes a membership, or every membership of an account in the app', async () => {
      await repo.putMember(membership());
      await repo.putMember(membership({ tenantId: 'ten-2' }));
      await repo.putMember(membership({ accountId: 'acc-b' }));
      await repo.putMember(membership({ appId: 'app-2' }));
      expect(await repo.removeMember('app-1', 'ten-1', 'acc-b')).toBe(true);
      expect(await repo.removeMember('app-1', 'ten-1', 'acc-b')).toBe(false);
      await repo.removeMembershipsOfAccount('app-1', 'acc-a');
      expect(await repo.listMembershipsOfAccount('app-1', 'acc-a')).toEqual([]);
      expect(await repo.listMembershipsOfAccount('app-2', 'acc-a')).toHaveLength(1);
    });

    it('deleting a tenant deletes its memberships', async () => {
      await repo.create(tenant());
      await repo.create(tenant({ id: 'ten-2', slug: 'south' }));
      await repo.putMember(membership());
      await repo.putMember(membership({ tenantId: 'ten-2' }));
      expect(await repo.delete('app-1', 'ten-1')).toBe(true);
      expect(await repo.delete('app-1', 'ten-1')).toBe(false);
      expect(await repo.findById('app-1', 'ten-1')).toBeUndefined();
      expect(await repo.listMembers('app-1', 'ten-1')).toEqual([]);
      expect((await repo.listMembershipsOfAccount('app-1', 'acc-a')).map((m) => m.tenantId)).toEqual(['ten-2']);
    });

    it('deleteByApp removes the tenants and memberships of that app only', async () => {
      await repo.create(tenant());
      await repo.putMember(membership());
      await repo.create(tenant({ appId: 'app-2' }));
      await repo.putMember(membership({ appId: 'app-2' }));
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(await repo.listMembershipsOfAccount('app-1', 'acc-a')).toEqual([]);
      expect(await repo.list('app-2')).toHaveLength(1);
      expect(await repo.listMembers('app-2', 'ten-1')).toHaveLength(1);
    });

    it('stores copies', async () => {
      const input = membership();
      await repo.putMember(input);
      input.roles.push('owner');
      const found = (await repo.findMember('app-1', 'ten-1', 'acc-a'))!;
      found.roles.push('root');
      expect(await repo.findMember('app-1', 'ten-1', 'acc-a')).toEqual(membership());
    });

    it('matches nothing for an operator object in place of an id or slug', async () => {
      await repo.create(tenant());
      await repo.putMember(membership());
      expect(await repo.findById('app-1', OPERATOR)).toBeUndefined();
      expect(await repo.findBySlug('app-1', OPERATOR)).toBeUndefined();
      expect(await repo.findManyByIds('app-1', [OPERATOR])).toEqual([]);
      expect(await repo.list(OPERATOR)).toEqual([]);
      expect(await repo.findMember('app-1', OPERATOR, OPERATOR)).toBeUndefined();
      expect(await repo.listMembers('app-1', OPERATOR)).toEqual([]);
      expect(await repo.listMembershipsOfAccount(OPERATOR, OPERATOR)).toEqual([]);
      expect(await repo.removeMember('app-1', OPERATOR, OPERATOR)).toBe(false);
      expect(await repo.delete('app-1', OPERATOR)).toBe(false);
      await repo.removeMembershipsOfAccount('app-1', OPERATOR);
      expect(await repo.findById('app-1', 'ten-1')).toEqual(tenant());
      expect(await repo.findMember('app-1', 'ten-1', 'acc-a')).toEqual(membership());
    });
  });
}

export function invitationRepositoryContract(make: Factory<InvitationRepository>): void {
  describe('InvitationRepository', () => {
    let repo: InvitationRepository;
    beforeEach(async () => { repo = await make(); });

    it('finds a created invitation by id and token hash; absent optional fields stay absent', async () => {
      await repo.create(invitation());
      const found = await repo.findById('app-1', 'inv-1');
      expect(found).toEqual(invitation());
      expect(found).not.toHaveProperty('roles');
      expect(found).not.toHaveProperty('tenantId');
      expect(await repo.findByTokenHash('app-1', 'hash-1')).toEqual(invitation());
      expect(await repo.findByTokenHash('app-2', 'hash-1')).toBeUndefined();
      expect(await repo.findById('app-1', 'inv-2')).toBeUndefined();
    });

    it('keeps optional tenant, roles and client', async () => {
      const full = invitation({ id: 'inv-2', tokenHash: 'hash-2', tenantId: 'ten-1', roles: ['admin'], clientId: 'portal' });
      await repo.create(full);
      expect(await repo.findById('app-1', 'inv-2')).toEqual(full);
    });

    it('rejects a duplicate id within an app', async () => {
      await repo.create(invitation());
      await expect(repo.create(invitation({ tokenHash: 'hash-2' }))).rejects.toBeInstanceOf(ConflictError);
      await repo.create(invitation({ appId: 'app-2' }));
    });

    it('lists oldest first and updates', async () => {
      await repo.create(invitation({ id: 'inv-2', tokenHash: 'h2', createdAt: at(2) }));
      await repo.create(invitation({ id: 'inv-1', tokenHash: 'h1', createdAt: at(1) }));
      await repo.create(invitation({ appId: 'app-2', id: 'inv-3' }));
      expect(ids(await repo.list('app-1'))).toEqual(['inv-1', 'inv-2']);
      const before = Date.now();
      const accepted = await repo.update('app-1', 'inv-1', { status: 'accepted' });
      expectUpdated(accepted, invitation({ tokenHash: 'h1', createdAt: at(1), status: 'accepted' }), before);
      expect(await repo.findById('app-1', 'inv-1')).toEqual(accepted);
      expect(await repo.update('app-1', 'missing', { status: 'revoked' })).toBeUndefined();
    });

    it('deletes every invitation of an app', async () => {
      await repo.create(invitation());
      await repo.create(invitation({ appId: 'app-2' }));
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(await repo.list('app-2')).toHaveLength(1);
    });

    it('stores copies', async () => {
      const input = invitation({ roles: ['member'] });
      await repo.create(input);
      input.roles!.push('admin');
      const found = (await repo.findById('app-1', 'inv-1'))!;
      found.status = 'accepted';
      expect(await repo.findById('app-1', 'inv-1')).toEqual(invitation({ roles: ['member'] }));
    });

    it('matches nothing for an operator object in place of an id or token hash', async () => {
      await repo.create(invitation());
      expect(await repo.findById('app-1', OPERATOR)).toBeUndefined();
      expect(await repo.findByTokenHash('app-1', OPERATOR)).toBeUndefined();
      expect(await repo.list(OPERATOR)).toEqual([]);
      expect(await repo.update('app-1', OPERATOR, { status: 'accepted' })).toBeUndefined();
      await repo.deleteByApp(OPERATOR);
      expect(await repo.findById('app-1', 'inv-1')).toEqual(invitation());
    });
  });
}

export function outboxRepositoryContract(make: Factory<OutboxRepository>): void {
  describe('OutboxRepository', () => {
    let repo: OutboxRepository;
    beforeEach(async () => { repo = await make(); });

    const now = Date.now();
    const sent = (n: number) => new Date(now - 60_000 + n * 1000);

    it('lists the unexpired messages of the app, oldest first', async () => {
      await repo.add(message({ id: 'm2', createdAt: sent(2) }));
      await repo.add(message({ id: 'm1', createdAt: sent(1) }));
      await repo.add(message({ id: 'old', createdAt: sent(0), expiresAt: new Date(Date.now() - 1000) }));
      await repo.add(message({ appId: 'app-2', id: 'other' }));
      const listed = await repo.list('app-1');
      expect(ids(listed)).toEqual(['m1', 'm2']);
      expect(listed[0]).toEqual(message({ id: 'm1', createdAt: sent(1), expiresAt: listed[0].expiresAt }));
    });

    it('keeps the newest messages when limited', async () => {
      for (const n of [3, 1, 4, 2]) await repo.add(message({ id: `m${n}`, createdAt: sent(n) }));
      expect(ids(await repo.list('app-1', 2))).toEqual(['m3', 'm4']);
    });

    it('rejects a duplicate id within an app', async () => {
      await repo.add(message());
      await expect(repo.add(message())).rejects.toBeInstanceOf(ConflictError);
      await repo.add(message({ appId: 'app-2' }));
    });

    it('updates delivery status, and an undefined value removes the field', async () => {
      await repo.add(message({ status: 'queued', lastError: 'timeout', attempts: 1 }));
      await repo.update('app-1', 'msg-1', { status: 'sent', attempts: 2, lastError: undefined });
      const [updated] = await repo.list('app-1');
      expect(updated).toMatchObject({ status: 'sent', attempts: 2, text: 'Your code is 123456' });
      expect(updated.lastError).toBeUndefined();
      await expect(repo.update('app-1', 'missing', { status: 'failed' })).resolves.toBeUndefined();
    });

    it('deletes every message of an app', async () => {
      await repo.add(message());
      await repo.add(message({ appId: 'app-2' }));
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(await repo.list('app-2')).toHaveLength(1);
    });

    it('matches nothing for an operator object in place of an id', async () => {
      await repo.add(message());
      expect(await repo.list(OPERATOR)).toEqual([]);
      await repo.update('app-1', OPERATOR, { status: 'failed' });
      await repo.deleteByApp(OPERATOR);
      expect((await repo.list('app-1')).map((m) => m.status)).toEqual(['simulated']);
    });
  });
}

export function auditRepositoryContract(make: Factory<AuditRepository>): void {
  describe('AuditRepository', () => {
    let repo: AuditRepository;
    beforeEach(async () => { repo = await make(); });

    it('lists the events of the app oldest first, with their detail', async () => {
      const detailed = event({ id: 'e1', createdAt: at(1), ip: '203.0.113.9', detail: { method: 'password', attempts: 2, remembered: false } });
      await repo.add(event({ id: 'e2', createdAt: at(2) }));
      await repo.add(detailed);
      await repo.add(event({ appId: 'app-2', id: 'e9' }));
      expect(await repo.list('app-1')).toEqual([detailed, event({ id: 'e2', createdAt: at(2) })]);
    });

    it('filters by account and keeps the newest events when limited', async () => {
      for (const n of [1, 2, 3, 4]) await repo.add(event({ id: `e${n}`, createdAt: at(n), accountId: n % 2 ? 'acc-a' : 'acc-b' }));
      expect(ids(await repo.list('app-1', { accountId: 'acc-a' }))).toEqual(['e1', 'e3']);
      expect(ids(await repo.list('app-1', { limit: 3 }))).toEqual(['e2', 'e3', 'e4']);
      expect(ids(await repo.list('app-1', { accountId: 'acc-b', limit: 1 }))).toEqual(['e4']);
    });

    it('rejects a duplicate id within an app', async () => {
      await repo.add(event());
      await expect(repo.add(event())).rejects.toBeInstanceOf(ConflictError);
    });

    it('deletes every event of an app', async () => {
      await repo.add(event());
      await repo.add(event({ appId: 'app-2' }));
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(await repo.list('app-2')).toHaveLength(1);
    });

    it('queries newest first, with every filter combined and the (createdAt, id) cursor', async () => {
      await repo.add(event({ id: 'e1', type: 'sign_in.failed', createdAt: at(1), ip: '203.0.113.1', accountId: undefined }));
      await repo.add(event({ id: 'e2', type: 'sign_in.succeeded', createdAt: at(2), accountId: 'acc-a', ip: '203.0.113.1' }));
      await repo.add(event({ id: 'e3b', type: 'tenant.created', createdAt: at(3), tenantId: 'ten-1', accountId: undefined }));
      await repo.add(event({ id: 'e3a', type: 'membership.added', createdAt: at(3), tenantId: 'ten-1', accountId: 'acc-b' }));
      await repo.add(event({ id: 'e4', type: 'sign_in.succeeded', createdAt: at(4), accountId: 'acc-b' }));
      await repo.add(event({ appId: 'app-2', id: 'e5', type: 'sign_in.succeeded', createdAt: at(5) }));
      expect(ids(await repo.query('app-1', { limit: 10 }))).toEqual(['e4', 'e3b', 'e3a', 'e2', 'e1']);
      expect(ids(await repo.query('app-1', { limit: 2 }))).toEqual(['e4', 'e3b']);
      expect(ids(await repo.query('app-1', { typePrefix: 'sign_in.', limit: 10 }))).toEqual(['e4', 'e2', 'e1']);
      expect(ids(await repo.query('app-1', { typePrefix: 'sign_in.s', accountId: 'acc-b', limit: 10 }))).toEqual(['e4']);
      expect(ids(await repo.query('app-1', { tenantId: 'ten-1', limit: 10 }))).toEqual(['e3b', 'e3a']);
      expect(ids(await repo.query('app-1', { ip: '203.0.113.1', limit: 10 }))).toEqual(['e2', 'e1']);
      expect(ids(await repo.query('app-1', { since: at(2), until: at(4), limit: 10 }))).toEqual(['e3b', 'e3a', 'e2']);
      expect(ids(await repo.query('app-1', { before: { createdAt: at(3), id: 'e3b' }, limit: 10 }))).toEqual(['e3a', 'e2', 'e1']);
      expect(ids(await repo.query('app-1', { before: { createdAt: at(3), id: 'e3a' }, limit: 1 }))).toEqual(['e2']);
    });

    it('treats a type prefix as text, never as a pattern, and hides expired events', async () => {
      await repo.add(event({ id: 'e1', type: 'sign_in.failed', createdAt: at(1) }));
      await repo.add(event({ id: 'e2', type: 'signxin.failed', createdAt: at(2) }));
      await repo.add(event({ id: 'e3', type: 'old', createdAt: at(3), expiresAt: new Date(Date.now() - 1000) }));
      await repo.add(event({ id: 'e4', type: 'kept', createdAt: at(4), expiresAt: new Date(Date.now() + 60_000) }));
      expect(ids(await repo.query('app-1', { typePrefix: 'sign.', limit: 10 }))).toEqual([]);
      expect(ids(await repo.query('app-1', { typePrefix: '.*', limit: 10 }))).toEqual([]);
      expect(ids(await repo.query('app-1', { typePrefix: 'sign_in', limit: 10 }))).toEqual(['e1']);
      expect(ids(await repo.query('app-1', { limit: 10 }))).toEqual(['e4', 'e2', 'e1']);
      expect(await repo.query(OPERATOR, { limit: 10 })).toEqual([]);
      expect(await repo.query('app-1', { accountId: OPERATOR, typePrefix: OPERATOR, limit: 10 })).toEqual([]);
    });

    it('matches nothing for an operator object in place of an id', async () => {
      await repo.add(event());
      expect(await repo.list(OPERATOR)).toEqual([]);
      expect(await repo.list('app-1', { accountId: OPERATOR })).toEqual([]);
      await repo.deleteByApp(OPERATOR);
      expect(await repo.list('app-1')).toHaveLength(1);
    });
  });
}

export function partnerRepositoryContract(make: Factory<PartnerRepository>): void {
  describe('PartnerRepository', () => {
    let repo: PartnerRepository;
    beforeEach(async () => { repo = await make(); });

    it('creates, finds within the app, and lists oldest first', async () => {
      await repo.create(partner({ slug: 'psa', createdAt: at(20) }));
      await repo.create(partner({ createdAt: at(10) }));
      await repo.create(partner({ appId: 'app-2' }));
      expect(await repo.find('app-1', 'hub')).toEqual(partner({ createdAt: at(10) }));
      expect(await repo.find('app-1', 'nope')).toBeUndefined();
      expect((await repo.list('app-1')).map((p) => p.slug)).toEqual(['hub', 'psa']);
      await expect(repo.create(partner())).rejects.toBeInstanceOf(ConflictError);
    });

    it('updates, removing the key fields a patch names as undefined and ignoring other undefined values', async () => {
      await repo.create(partner({ audience: 'https://portal.example' }));
      const before = Date.now();
      const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] };
      const updated = await repo.update('app-1', 'hub', { secretCiphertext: undefined, jwks, algorithms: ['ES256'], name: undefined });
      const { secretCiphertext: _gone, ...rest } = partner({ audience: 'https://portal.example' });
      expectUpdated(updated, { ...rest, jwks, algorithms: ['ES256'] }, before);
      expect(updated).not.toHaveProperty('secretCiphertext');
      expect(await repo.find('app-1', 'hub')).toEqual(updated);
      expect(await repo.update('app-1', 'missing', { name: 'x' })).toBeUndefined();
    });

    it('deletes one partner, or every partner of an app', async () => {
      await repo.create(partner());
      await repo.create(partner({ slug: 'psa' }));
      await repo.create(partner({ appId: 'app-2' }));
      expect(await repo.delete('app-1', 'hub')).toBe(true);
      expect(await repo.delete('app-1', 'hub')).toBe(false);
      await repo.deleteByApp('app-1');
      expect(await repo.list('app-1')).toEqual([]);
      expect(await repo.list('app-2')).toHaveLength(1);
    });

    it('stores copies, and matches nothing for an operator object', async () => {
      const input = partner();
      await repo.create(input);
      input.requiredClaims.context = 'changed';
      const found = (await repo.find('app-1', 'hub'))!;
      found.algorithms.push('HS512');
      expect(await repo.find('app-1', 'hub')).toEqual(partner());
      expect(await repo.find('app-1', OPERATOR)).toBeUndefined();
      expect(await repo.find(OPERATOR, 'hub')).toBeUndefined();
      expect(await repo.list(OPERATOR)).toEqual([]);
      expect(await repo.update('app-1', OPERATOR, { name: 'x' })).toBeUndefined();
      expect(await repo.delete('app-1', OPERATOR)).toBe(false);
    });
  });
}
