/**
 * Offboarding across processes: two Portcullis servers share their stores (Redis for sessions and access tokens,
 * one set of durable repositories, as two processes share MongoDB and Redis). A person signed in on one server is
 * deactivated, or signed out everywhere, through the other; within a second neither server honours anything.
 */
import { Browser } from '../support/browser.js';
import { rpFor, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServer, type TestServer } from '../support/server.js';
import { accessState, ENDED, LIVE } from '../support/access-checks.js';
import { describeMongo, startMongo, uniqueDatabaseName, type MongoServer } from '../support/mongo.js';
import { withDatabase } from '../support/process.js';

const SLUG = 'offboard-ha';
const PASSWORD = 'velvet-harbor-lantern-1893';

let redis: RedisServer;
let first: TestServer;
let second: TestServer;
let rpFirst: Rp;
let rpSecond: Rp;
let counter = 0;

const env = () => ({ REDIS_URL: redis.url, SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'), APP_VERSION_CHECK_MS: '200' });

beforeAll(async () => {
  redis = await startRedisServer();
  first = await startServer({ env: env() });
  second = await startServer({ env: env(), stores: first.stores });
  rpFirst = await setUpRp(first, SLUG, { grant_types: ['authorization_code', 'refresh_token'] });
  rpSecond = await rpFor(second, SLUG, rpFirst.clientId, rpFirst.clientSecret);
});
afterAll(async () => {
  await second.close();
  await first.close();
  await redis.close();
});

async function personSignedInOnFirst() {
  const email = `ha${++counter}@offboard.test`;
  const { id } = await first.admin.ok('POST', `/apps/${SLUG}/accounts`, { email, password: PASSWORD });
  const browser = new Browser(first.url);
  const { tokens } = await signIn(rpFirst, browser, email, PASSWORD);
  return { id, browser, tokens: { access_token: tokens.access_token, refresh_token: tokens.refresh_token } };
}

describe('offboarding across two servers sharing Redis', () => {
  it('lists on one server the sessions made on the other, from Redis', async () => {
    const { id } = await personSignedInOnFirst();
    const sessions = await second.admin.ok('GET', `/apps/${SLUG}/accounts/${id}/sessions`);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ method: 'password', ip: '127.0.0.1', clients: [rpFirst.clientId] });
  });

  it('deactivating on the second server ends everything on both within a second', async () => {
    const held = await personSignedInOnFirst();
    const started = Date.now();
    await second.admin.ok('POST', `/apps/${SLUG}/accounts/${held.id}/deactivate`);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await accessState(rpFirst, held.browser, { ...held.tokens })).toEqual(ENDED);
    const onSecond = new Browser(second.url);
    expect(await accessState(rpSecond, onSecond, { ...held.tokens })).toMatchObject({ userinfo: 401, introspectionActive: false, refresh: 'invalid_grant' });
  });

  it('signing out everywhere on the second server ends the first server\'s session', async () => {
    const held = await personSignedInOnFirst();
    expect(await accessState(rpFirst, held.browser, held.tokens)).toEqual(LIVE);
    await second.admin.ok('DELETE', `/apps/${SLUG}/accounts/${held.id}/sessions`);
    expect(await accessState(rpFirst, held.browser, held.tokens)).toEqual(ENDED);
    expect(await first.admin.ok('GET', `/apps/${SLUG}/accounts/${held.id}/sessions`)).toEqual([]);
  });
});

// Production shape: MongoDB for grants, refresh tokens and accounts, Redis for sessions and access tokens; each server
// opens its own connections, as two processes do.
describeMongo('offboarding across two servers sharing MongoDB and Redis', () => {
  let mongo: MongoServer;
  let mongoRedis: RedisServer;
  let one: TestServer;
  let two: TestServer;
  let rpOne: Rp;
  let rpTwo: Rp;

  beforeAll(async () => {
    mongo = (await startMongo())!;
    mongoRedis = await startRedisServer();
    const shared = {
      MONGODB_URI: withDatabase(mongo.uri, uniqueDatabaseName('offboarding')), REDIS_URL: mongoRedis.url,
      SECRETS_KEY: Buffer.alloc(32, 5).toString('base64'), APP_VERSION_CHECK_MS: '200',
    };
    one = await startServer({ env: shared });
    two = await startServer({ env: shared });
    rpOne = await setUpRp(one, 'offboard-mongo', { grant_types: ['authorization_code', 'refresh_token'] });
    rpTwo = await rpFor(two, 'offboard-mongo', rpOne.clientId, rpOne.clientSecret);
  }, 90_000);
  afterAll(async () => {
    await two?.close();
    await one?.close();
    await mongoRedis?.close();
    await mongo?.stop();
  });

  it('deactivating through one server ends within a second what the other issued', async () => {
    const email = 'mongo-ha@offboard.test';
    const { id } = await one.admin.ok('POST', '/apps/offboard-mongo/accounts', { email, password: PASSWORD });
    const browser = new Browser(one.url);
    const { tokens } = await signIn(rpOne, browser, email, PASSWORD);
    const held = { access_token: tokens.access_token, refresh_token: tokens.refresh_token };
    expect(await two.admin.ok('GET', `/apps/offboard-mongo/accounts/${id}/sessions`)).toHaveLength(1);
    expect(await two.admin.ok('GET', `/apps/offboard-mongo/accounts/${id}/grants`)).toHaveLength(1);
    const started = Date.now();
    await two.admin.ok('POST', `/apps/offboard-mongo/accounts/${id}/deactivate`);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await accessState(rpOne, browser, { ...held })).toEqual(ENDED);
    expect(await accessState(rpTwo, new Browser(two.url), { ...held })).toMatchObject({ userinfo: 401, introspectionActive: false, refresh: 'invalid_grant' });
  });
});
