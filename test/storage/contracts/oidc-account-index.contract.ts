/**
 * The account index of the OIDC store (`OidcAccountIndex` in `src/storage/ports.ts`): sessions, grants and refresh
 * tokens of one account in one lookup. Run against every implementation by `../oidc-account-index.contract.test.ts`;
 * app ids are unique per test, so one store may be shared by the suite and by concurrent runs on one server.
 */
import { randomUUID } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import type { OidcAccountIndex, OidcAdapterFactory } from '../../../src/storage/ports.js';

export interface OidcAccountIndexSubject {
  factory: OidcAdapterFactory;
  index: OidcAccountIndex;
  close(): Promise<void> | void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

function payload(accountId: string, extra: Partial<AdapterPayload> = {}): AdapterPayload {
  return { iat: nowSeconds(), exp: nowSeconds() + 600, accountId, clientId: 'client-1', ...extra } as AdapterPayload;
}

export function oidcAccountIndexContract(name: string, makeStore: () => Promise<OidcAccountIndexSubject>): void {
  describe(`OIDC account index contract: ${name}`, () => {
    let subject: OidcAccountIndexSubject;
    const appId = () => `app-${randomUUID()}`;
    const id = () => randomUUID().replaceAll('-', '');
    const ids = (records: Array<{ id: string }>) => records.map((r) => r.id).sort();

    beforeAll(async () => {
      subject = await makeStore();
    });
    afterAll(async () => {
      await subject?.close();
    });

    it('lists the sessions, grants and refresh tokens of one account, with their ids and payloads', async () => {
      const app = appId();
      const [s1, s2, other, grant, refresh] = [id(), id(), id(), id(), id()];
      const sessions = subject.factory(app)('Session');
      await sessions.upsert(s1, payload('ada', { uid: id(), jti: s1 }), 600);
      await sessions.upsert(s2, payload('ada', { uid: id(), jti: s2 }), 600);
      await sessions.upsert(other, payload('grace', { uid: id() }), 600);
      await subject.factory(app)('Grant').upsert(grant, payload('ada', { jti: grant }), 600);
      await subject.factory(app)('RefreshToken').upsert(refresh, payload('ada', { grantId: grant }), 600);

      const found = await subject.index.listByAccount(app, 'Session', 'ada');
      expect(ids(found)).toEqual([s1, s2].sort());
      expect(found.find((r) => r.id === s1)?.payload).toMatchObject({ accountId: 'ada', jti: s1, clientId: 'client-1' });
      expect(ids(await subject.index.listByAccount(app, 'Grant', 'ada'))).toEqual([grant]);
      expect(ids(await subject.index.listByAccount(app, 'RefreshToken', 'ada'))).toEqual([refresh]);
      expect(ids(await subject.index.listByAccount(app, 'Session', 'grace'))).toEqual([other]);
      expect(await subject.index.listByAccount(app, 'Session', 'nobody')).toEqual([]);
    });

    it('never answers for another app', async () => {
      const [first, second] = [appId(), appId()];
      await subject.factory(first)('Session').upsert(id(), payload('ada'), 600);
      expect(await subject.index.listByAccount(second, 'Session', 'ada')).toEqual([]);
    });

    it('indexes a session once it is saved with an account (sessions start anonymous), once per re-save', async () => {
      const app = appId();
      const sid = id();
      const sessions = subject.factory(app)('Session');
      await sessions.upsert(sid, { iat: nowSeconds(), exp: nowSeconds() + 600 } as AdapterPayload, 600);
      expect(await subject.index.listByAccount(app, 'Session', 'ada')).toEqual([]);
      await sessions.upsert(sid, payload('ada'), 600);
      await sessions.upsert(sid, payload('ada', { loginTs: 1 }), 600);
      const found = await subject.index.listByAccount(app, 'Session', 'ada');
      expect(ids(found)).toEqual([sid]);
      expect(found[0].payload.loginTs).toBe(1);
    });

    it('does not list a session re-saved for another account under the first one', async () => {
      const app = appId();
      const sid = id();
      const sessions = subject.factory(app)('Session');
      await sessions.upsert(sid, payload('ada'), 600);
      await sessions.upsert(sid, payload('grace'), 600);
      expect(await subject.index.listByAccount(app, 'Session', 'ada')).toEqual([]);
      expect(ids(await subject.index.listByAccount(app, 'Session', 'grace'))).toEqual([sid]);
    });

    it('forgets destroyed records and the tokens of a revoked grant', async () => {
      const app = appId();
      const [sid, grant, refresh] = [id(), id(), id()];
      await subject.factory(app)('Session').upsert(sid, payload('ada'), 600);
      await subject.factory(app)('RefreshToken').upsert(refresh, payload('ada', { grantId: grant }), 600);
      await subject.factory(app)('Session').destroy(sid);
      await subject.factory(app)('RefreshToken').revokeByGrantId(grant);
      expect(await subject.index.listByAccount(app, 'Session', 'ada')).toEqual([]);
      expect(await subject.index.listByAccount(app, 'RefreshToken', 'ada')).toEqual([]);
    });

    it('does not list expired records', async () => {
      const app = appId();
      const [short, long] = [id(), id()];
      await subject.factory(app)('Session').upsert(short, payload('ada'), 1);
      await subject.factory(app)('Session').upsert(long, payload('ada'), 600);
      await sleep(1_100);
      expect(ids(await subject.index.listByAccount(app, 'Session', 'ada'))).toEqual([long]);
    });

    it('keeps records without expiry listed', async () => {
      const app = appId();
      const grant = id();
      await subject.factory(app)('Grant').upsert(grant, payload('ada'), 0);
      expect(ids(await subject.index.listByAccount(app, 'Grant', 'ada'))).toEqual([grant]);
    });

    it('carries the consumed mark of a rotated refresh token', async () => {
      const app = appId();
      const refresh = id();
      const tokens = subject.factory(app)('RefreshToken');
      await tokens.upsert(refresh, payload('ada', { grantId: id() }), 600);
      await tokens.consume(refresh);
      const [found] = await subject.index.listByAccount(app, 'RefreshToken', 'ada');
      expect(typeof found.payload.consumed).toBe('number');
    });

    it('lists many records of one account in one call', async () => {
      const app = appId();
      const sessions = subject.factory(app)('Session');
      const made = Array.from({ length: 30 }, () => id());
      await Promise.all(made.map((sid) => sessions.upsert(sid, payload('ada'), 600)));
      expect(ids(await subject.index.listByAccount(app, 'Session', 'ada'))).toEqual(made.sort());
    });
  });
}
