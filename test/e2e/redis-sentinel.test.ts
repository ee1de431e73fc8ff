/**
 * Issue 16: Portcullis against a real Sentinel-managed Redis (one primary, two replicas, three sentinels,
 * `test/support/redis-sentinel.ts`) through its `redis-sentinel://` URL: the sign-in scenarios, and the loss of the
 * primary under a light load of sign-ins: 503 `temporarily_unavailable` meanwhile (never a 500 or a hang), sign-ins
 * again within 15 s without a restart, and a session created before the failover still valid after it.
 */
import { Browser } from '../support/browser.js';
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel.js';
import {
  failoverReport, passwordSignIn, sessionStillWorks, signInScenarios, startHaPortcullis, underLoad, type HaApp,
} from '../support/redis-ha.js';
import type { TestServer } from '../support/server.js';

let sentinel: RedisSentinel;
let server: TestServer;
let app: HaApp;
let codeApp: HaApp;

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  ({ server, app, codeApp } = await startHaPortcullis(sentinel.url, false, 'sentinel'));
}, 60_000);
afterAll(async () => {
  await server?.close();
  await sentinel?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Portcullis on a Sentinel-managed Redis', () => {
  signInScenarios(() => ({ server, app, codeApp }));

  it('writes to the primary the sentinels name, and the replicas follow', async () => {
    const primary = await sentinel.primaryPort();
    expect(primary).toBe(sentinel.dataPorts[0]);
    await passwordSignIn(app, server);
    const onPrimary = await sentinel.node(primary).keys(`pc:{${app.id}}:Session:*`);
    expect(onPrimary.length).toBeGreaterThan(0);
    await sentinel.node(primary).set(`probe:${app.id}`, '1', 'EX', 60);
    expect(await sentinel.node(primary).call('WAIT', 2, 2_000)).toBe(2);
    for (const replica of sentinel.dataPorts.slice(1)) {
      expect(await sentinel.node(replica).exists(...onPrimary)).toBe(onPrimary.length);
    }
  });

  it('answers 503 while the primary fails over, signs in again within 15 s, and keeps sessions', async () => {
    const primary = await sentinel.primaryPort();
    const browser = new Browser(server.url);
    await passwordSignIn(app, server, browser);
    // WAIT covers the writes of its own connection: a later write acknowledged by both replicas means they have
    // the session too (replication is one ordered stream).
    await sentinel.node(primary).set(`probe:${app.id}`, '2', 'EX', 60);
    expect(await sentinel.node(primary).call('WAIT', 2, 2_000)).toBe(2);

    let killedAt = 0;
    let promoted = 0;
    const outcomes = await underLoad(server, app, async () => {
      await sleep(500);
      killedAt = Date.now();
      await sentinel.kill(primary);
      promoted = await sentinel.waitForNewPrimary(primary, 15_000);
      await sleep(3_000);
    });
    const report = failoverReport(outcomes, killedAt);
    console.log(`Redis Sentinel failover: ${JSON.stringify({ ...report, wrong: report.wrong.length })}`);

    expect(report.wrong).toEqual([]);
    expect(report.unavailableCount).toBeGreaterThan(0);
    expect(report.recoveredAfterMs).toBeDefined();
    expect(report.recoveredAfterMs!).toBeLessThan(15_000);
    expect(sentinel.dataPorts.slice(1)).toContain(promoted);
    expect(await sessionStillWorks(server, app, browser)).toBe(true);
  }, 45_000);
});
