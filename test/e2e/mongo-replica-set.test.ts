/**
 * Issue 16, the MongoDB side: Portcullis on a three-member replica set (`MONGODB_URI=…?replicaSet=rs0`) with Redis
 * for short-lived state, and the primary killed (SIGKILL) under a light load of sign-ins: 503
 * `temporarily_unavailable` meanwhile (never a 500 or a hang), sign-ins again once a new primary is elected, without
 * restarting Portcullis, and the accounts and sessions from before still there. Needs `mongod` on PATH (a
 * `MONGODB_URI` alone names a server this test cannot kill members of); otherwise skipped.
 */
import { Browser } from '../support/browser.js';
import { describeWithMongod, startMongoReplicaSet, uniqueDatabaseName, type MongoReplicaSet } from '../support/mongo.js';
import { withDatabase } from '../support/process.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { EMAIL, failoverReport, haEnv, passwordSignIn, sessionStillWorks, setUpHaApp, underLoad, type HaApp } from '../support/redis-ha.js';
import { startServer, type TestServer } from '../support/server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithMongod('Portcullis on a MongoDB replica set', () => {
  let set: MongoReplicaSet;
  let redis: RedisServer;
  let server: TestServer;
  let app: HaApp;

  beforeAll(async () => {
    set = await startMongoReplicaSet();
    redis = await startRedisServer();
    server = await startServer({ env: { ...haEnv(redis.url, false), MONGODB_URI: withDatabase(set.uri, uniqueDatabaseName('replica set')) } });
    app = await setUpHaApp(server, 'replica-set');
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await redis?.close();
    await set?.stop();
  });

  it('answers 503 while the primary is lost, signs in again after the election, and keeps accounts and sessions', async () => {
    const browser = new Browser(server.url);
    await passwordSignIn(app, server, browser);
    const primary = await set.primaryPort();

    let killedAt = 0;
    let elected = 0;
    const outcomes = await underLoad(server, app, async () => {
      await sleep(500);
      killedAt = Date.now();
      set.kill(primary);
      elected = await set.primaryPort();
      await sleep(3_000);
    });
    const report = failoverReport(outcomes, killedAt);
    console.log(`MongoDB replica set failover: ${JSON.stringify({ ...report, wrong: report.wrong.length })}`);

    expect(elected).not.toBe(primary);
    expect(report.wrong).toEqual([]);
    expect(report.recoveredAfterMs).toBeDefined();
    expect(report.recoveredAfterMs!).toBeLessThan(20_000);
    // The session (Redis) and the account behind it (written with write concern majority, so on the new primary).
    expect(await sessionStillWorks(server, app, browser)).toBe(true);
    expect((await passwordSignIn(app, server)).claims()!.email).toBe(EMAIL);
  }, 90_000);
});
