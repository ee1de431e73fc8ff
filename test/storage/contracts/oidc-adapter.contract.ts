/**
 * oidc-provider's Adapter contract (https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#adapter),
 * as `OidcAdapterFactory` in `src/storage/ports.ts` scopes it per app, run against every implementation by
 * `../oidc-adapter.contract.test.ts`. App ids are unique per test, so a store may be shared by the suite and by
 * concurrent runs on one external server.
 */
import { randomUUID } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import type { OidcAdapterFactory } from '../../../src/storage/ports.js';

export interface OidcAdapterSubject {
  factory: OidcAdapterFactory;
  close(): Promise<void> | void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A payload shaped like oidc-provider's (the adapter must store it opaquely). */
function token(extra: Partial<AdapterPayload> = {}): AdapterPayload {
  return {
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
    accountId: 'acc-1',
    clientId: 'client-1',
    scope: 'openid email',
    claims: { id_token: { email: null } },
    resource: ['https://api.example.test'],
    extra: { nested: { list: [1, 'two'], flag: true } },
    ...extra,
  } as AdapterPayload;
}

/** Registers the suite. `makeStore` runs once, in `beforeAll`. */
export function oidcAdapterContract(name: string, makeStore: () => Promise<OidcAdapterSubject>): void {
  describe(`OIDC adapter contract: ${name}`, () => {
    let subject: OidcAdapterSubject;
    const appId = () => `app-${randomUUID()}`;
    const id = () => randomUUID().replaceAll('-', '');
    const adapter = (app: string, model: string) => subject.factory(app)(model);

    beforeAll(async () => {
      subject = await makeStore();
    });
    afterAll(async () => {
      await subject?.close();
    });

    describe('upsert / find', () => {
      it('finds what was stored, and undefined for unknown ids', async () => {
        const tokens = adapter(appId(), 'AccessToken');
        const [tokenId, payload] = [id(), token({ jti: 'x' })];
        await tokens.upsert(tokenId, payload, 600);
        expect(await tokens.find(tokenId)).toEqual(payload);
        expect(await tokens.find(id())).toBeUndefined();
      });

      it('replaces the record on a second upsert', async () => {
        const grants = adapter(appId(), 'Grant');
        const grantId = id();
        await grants.upsert(grantId, token({ scope: 'openid' }), 600);
        await grants.upsert(grantId, token({ scope: 'openid profile' }), 600);
        expect((await grants.find(grantId))?.scope).toBe('openid profile');
      });

      it('hands out copies, never references', async () => {
        const sessions = adapter(appId(), 'Session');
        const sessionId = id();
        const payload = token({ uid: id() });
        await sessions.upsert(sessionId, payload, 600);
        (payload.extra as { nested: { list: unknown[] } }).nested.list.push('mutated');
        payload.accountId = 'changed';
        const found = await sessions.find(sessionId);
        expect(found?.accountId).toBe('acc-1');
        expect((found?.extra as { nested: { list: unknown[] } }).nested.list).toEqual([1, 'two']);
        found!.accountId = 'changed again';
        expect((await sessions.find(sessionId))?.accountId).toBe('acc-1');
      });
    });

    describe('findByUid / findByUserCode', () => {
      it('finds a session by its uid', async () => {
        const sessions = adapter(appId(), 'Session');
        const [sessionId, uid] = [id(), id()];
        await sessions.upsert(sessionId, token({ uid }), 600);
        expect(await sessions.findByUid(uid)).toEqual(token({ uid, iat: expect.any(Number), exp: expect.any(Number) }));
        expect(await sessions.findByUid(id())).toBeUndefined();
      });

      it('finds a device code by its user code', async () => {
        const codes = adapter(appId(), 'DeviceCode');
        const [codeId, userCode] = [id(), 'ABCD-EFGH'];
        await codes.upsert(codeId, token({ userCode, deviceInfo: { ip: '127.0.0.1' } }), 600);
        expect((await codes.findByUserCode(userCode))?.deviceInfo).toEqual({ ip: '127.0.0.1' });
        expect(await codes.findByUserCode('ZZZZ-ZZZZ')).toBeUndefined();
      });
    });

    describe('consume', () => {
      it('marks the record consumed (epoch seconds), visible to every finder', async () => {
        const codes = adapter(appId(), 'DeviceCode');
        const [codeId, userCode] = [id(), `U-${id()}`];
        await codes.upsert(codeId, token({ userCode }), 600);
        expect((await codes.find(codeId))?.consumed).toBeFalsy();
        const before = nowSeconds();
        await codes.consume(codeId);
        const found = await codes.find(codeId);
        expect(typeof found?.consumed).toBe('number');
        expect(found!.consumed).toBeGreaterThanOrEqual(before);
        expect(found!.consumed).toBeLessThanOrEqual(nowSeconds());
        expect((await codes.findByUserCode(userCode))?.consumed).toBe(found!.consumed);
        expect(found?.accountId).toBe('acc-1');
      });

      it('fails with invalid_grant, and creates nothing, for an unknown id', async () => {
        const codes = adapter(appId(), 'AuthorizationCode');
        const codeId = id();
        await expect(codes.consume(codeId)).rejects.toMatchObject({ error: 'invalid_grant', statusCode: 400 });
        expect(await codes.find(codeId)).toBeUndefined();
      });

      it('fails with invalid_grant on a second consume of the same id (single use)', async () => {
        const tokens = adapter(appId(), 'RefreshToken');
        const tokenId = id();
        await tokens.upsert(tokenId, token({ grantId: id() }), 600);
        await tokens.consume(tokenId);
        const first = (await tokens.find(tokenId))?.consumed;
        await expect(tokens.consume(tokenId)).rejects.toMatchObject({ error: 'invalid_grant' });
        expect((await tokens.find(tokenId))?.consumed).toBe(first);
      });

      it('lets exactly one of 8 parallel consumes win; the others fail with invalid_grant (RFC 6749 §4.1.2)', async () => {
        for (const model of ['AuthorizationCode', 'RefreshToken']) {
          const codes = adapter(appId(), model);
          const codeId = id();
          const payload = token({ grantId: id() });
          await codes.upsert(codeId, payload, 600);
          const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => codes.consume(codeId)));
          expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
          for (const lost of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
            expect(lost.reason).toMatchObject({ error: 'invalid_grant', statusCode: 400 });
          }
          expect(await codes.find(codeId)).toMatchObject({ ...payload, consumed: expect.any(Number) });
        }
      });

      it('starts unconsumed again after a re-upsert of the record', async () => {
        const codes = adapter(appId(), 'AuthorizationCode');
        const codeId = id();
        await codes.upsert(codeId, token(), 600);
        await codes.consume(codeId);
        await codes.upsert(codeId, token(), 600);
        expect((await codes.find(codeId))?.consumed).toBeFalsy();
        await expect(codes.consume(codeId)).resolves.toBeUndefined();
      });
    });

    describe('destroy', () => {
      it('removes the record and what its secondary keys point at', async () => {
        const sessions = adapter(appId(), 'Session');
        const [sessionId, uid] = [id(), id()];
        await sessions.upsert(sessionId, token({ uid }), 600);
        await sessions.destroy(sessionId);
        expect(await sessions.find(sessionId)).toBeUndefined();
        expect(await sessions.findByUid(uid)).toBeUndefined();
        await expect(sessions.destroy(id())).resolves.toBeUndefined();
      });
    });

    describe('revokeByGrantId', () => {
      it('removes every record of the grant across models and leaves other grants alone', async () => {
        const app = appId();
        const [revoked, kept] = [id(), id()];
        const models = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'BackchannelAuthenticationRequest'];
        const ids: Record<string, { revoked: string; kept: string }> = {};
        for (const model of models) {
          ids[model] = { revoked: id(), kept: id() };
          await adapter(app, model).upsert(ids[model].revoked, token({ grantId: revoked }), 600);
          await adapter(app, model).upsert(ids[model].kept, token({ grantId: kept }), 600);
        }

        await adapter(app, 'AccessToken').revokeByGrantId(revoked);

        for (const model of models) {
          expect(await adapter(app, model).find(ids[model].revoked)).toBeUndefined();
          expect(await adapter(app, model).find(ids[model].kept)).toMatchObject({ grantId: kept });
        }
      });

      it('leaves records that are not tokens (an interaction in progress) when their grant is revoked', async () => {
        const [app, grantId, interactionId, sessionId] = [appId(), id(), id(), id()];
        await adapter(app, 'Interaction').upsert(interactionId, token({ grantId, uid: id() }), 600);
        await adapter(app, 'Session').upsert(sessionId, token({ uid: id() }), 600);
        await adapter(app, 'AccessToken').upsert(id(), token({ grantId }), 600);
        await adapter(app, 'AccessToken').revokeByGrantId(grantId);
        await adapter(app, 'Grant').revokeByGrantId(grantId);
        expect(await adapter(app, 'Interaction').find(interactionId)).toMatchObject({ grantId });
        expect(await adapter(app, 'Session').find(sessionId)).toBeDefined();
      });

      it('only revokes within the app', async () => {
        const [appA, appB, grantId, tokenId] = [appId(), appId(), id(), id()];
        await adapter(appA, 'AccessToken').upsert(tokenId, token({ grantId }), 600);
        await adapter(appB, 'AccessToken').upsert(tokenId, token({ grantId }), 600);
        await adapter(appA, 'AccessToken').revokeByGrantId(grantId);
        expect(await adapter(appA, 'AccessToken').find(tokenId)).toBeUndefined();
        expect(await adapter(appB, 'AccessToken').find(tokenId)).toMatchObject({ grantId });
      });

      it('is fine for an unknown grant', async () => {
        await expect(adapter(appId(), 'AccessToken').revokeByGrantId(id())).resolves.toBeUndefined();
      });
    });

    describe('isolation', () => {
      it('never shows one app the records of another, for the same id, uid or user code', async () => {
        const [appA, appB, sharedId, uid] = [appId(), appId(), id(), id()];
        await adapter(appA, 'Session').upsert(sharedId, token({ uid, accountId: 'in-a' }), 600);
        expect(await adapter(appB, 'Session').find(sharedId)).toBeUndefined();
        expect(await adapter(appB, 'Session').findByUid(uid)).toBeUndefined();

        await adapter(appB, 'Session').upsert(sharedId, token({ uid, accountId: 'in-b' }), 600);
        expect((await adapter(appA, 'Session').find(sharedId))?.accountId).toBe('in-a');
        expect((await adapter(appB, 'Session').findByUid(uid))?.accountId).toBe('in-b');

        await adapter(appB, 'Session').destroy(sharedId);
        expect((await adapter(appA, 'Session').findByUid(uid))?.accountId).toBe('in-a');
      });

      it('keeps models apart within an app', async () => {
        const [app, sharedId] = [appId(), id()];
        await adapter(app, 'AccessToken').upsert(sharedId, token({ accountId: 'access' }), 600);
        expect(await adapter(app, 'RefreshToken').find(sharedId)).toBeUndefined();
        await adapter(app, 'RefreshToken').upsert(sharedId, token({ accountId: 'refresh' }), 600);
        await adapter(app, 'RefreshToken').consume(sharedId);
        expect(await adapter(app, 'AccessToken').find(sharedId)).toEqual(token({ accountId: 'access', iat: expect.any(Number), exp: expect.any(Number) }));
        await adapter(app, 'AccessToken').destroy(sharedId);
        expect((await adapter(app, 'RefreshToken').find(sharedId))?.accountId).toBe('refresh');
      });

      it('keeps user codes of two apps apart', async () => {
        const [appA, appB, userCode] = [appId(), appId(), 'SAME-CODE'];
        await adapter(appA, 'DeviceCode').upsert(id(), token({ userCode, accountId: 'in-a' }), 600);
        expect(await adapter(appB, 'DeviceCode').findByUserCode(userCode)).toBeUndefined();
      });
    });

    describe('expiry', () => {
      it('forgets records and their uid / user code keys after expiresIn seconds', async () => {
        const app = appId();
        const [sessionId, uid, codeId, userCode] = [id(), id(), id(), `U-${id()}`];
        await adapter(app, 'Session').upsert(sessionId, token({ uid }), 1);
        await adapter(app, 'DeviceCode').upsert(codeId, token({ userCode }), 1);
        expect(await adapter(app, 'Session').find(sessionId)).toBeDefined();
        await sleep(1200);
        expect(await adapter(app, 'Session').find(sessionId)).toBeUndefined();
        expect(await adapter(app, 'Session').findByUid(uid)).toBeUndefined();
        expect(await adapter(app, 'DeviceCode').find(codeId)).toBeUndefined();
        expect(await adapter(app, 'DeviceCode').findByUserCode(userCode)).toBeUndefined();
      });

      it('keeps a consumed record\'s expiry', async () => {
        const codes = adapter(appId(), 'AuthorizationCode');
        const codeId = id();
        await codes.upsert(codeId, token(), 1);
        await codes.consume(codeId);
        await sleep(1200);
        expect(await codes.find(codeId)).toBeUndefined();
      });

      it('keeps a grant revocable as long as its longest-lived token, whatever the save order', async () => {
        const app = appId();
        const [grantId, shortId, longId, lateShortId] = [id(), id(), id(), id()];
        await adapter(app, 'AuthorizationCode').upsert(shortId, token({ grantId }), 1);
        await adapter(app, 'RefreshToken').upsert(longId, token({ grantId }), 60);
        // A later short-lived member must not shorten the index either.
        await adapter(app, 'AccessToken').upsert(lateShortId, token({ grantId }), 1);
        await sleep(1200);
        expect(await adapter(app, 'RefreshToken').find(longId)).toBeDefined();
        await adapter(app, 'RefreshToken').revokeByGrantId(grantId);
        expect(await adapter(app, 'RefreshToken').find(longId)).toBeUndefined();
      });
    });
  });
}
