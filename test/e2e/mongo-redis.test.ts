/**
 * Production shape: MongoDB for durable data, Redis for short-lived state, several server processes. Runs wherever
 * a mongod exists (PATH or MONGODB_URI); otherwise skipped with one line saying so.
 */
import * as oidc from 'openid-client';
import { Browser } from '../support/browser.js';
import { describeMongo, startMongo, uniqueDatabaseName, type MongoServer } from '../support/mongo.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { freePort, spawnServer, withDatabase, type ServerProcess } from '../support/process.js';
import { AdminClient, ADMIN_KEY } from '../support/server.js';
import { REDIRECT_URI } from '../support/rp.js';

describeMongo('MongoDB + Redis, several processes', () => {
  let mongo: MongoServer;
  let redis: RedisServer;
  let first: ServerProcess;
  let second: ServerProcess;
  let publicUrl: string;
  let client: { client_id: string; client_secret: string };

  beforeAll(async () => {
    mongo = (await startMongo())!;
    redis = await startRedisServer();
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    const env = {
      MONGODB_URI: withDatabase(mongo.uri, uniqueDatabaseName('processes')),
      REDIS_URL: redis.url,
      PUBLIC_URL: publicUrl,
      ADMIN_API_KEY: ADMIN_KEY,
      SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
      APP_VERSION_CHECK_MS: '500',
    };
    first = await spawnServer({ ...env, PORT: String(port) });
    second = await spawnServer(env);
    const admin = new AdminClient(first.url);
    await admin.ok('POST', '/apps', { slug: 'shared', name: 'Shared Portal' });
    client = await admin.ok('POST', '/apps/shared/clients', { name: 'Portal', redirect_uris: [REDIRECT_URI], first_party: true });
    await admin.ok('POST', '/apps/shared/accounts', { email: 'm@example.com', password: 'mongo-password' });
  }, 90_000);

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await redis?.close();
    await mongo?.stop();
  });

  /** An openid-client configuration whose requests go to `target` (the issuer stays PUBLIC_URL, as behind a load balancer). */
  async function rpVia(target: ServerProcess) {
    const route: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      url.port = String(target.port);
      return fetch(url, init);
    };
    const config = await oidc.discovery(new URL(`${publicUrl}/apps/shared`), client.client_id, client.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
      [oidc.customFetch]: route,
    });
    config[oidc.customFetch] = route;
    return config;
  }

  async function authorize(browser: Browser, config: oidc.Configuration, params: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params,
    });
    let page = await browser.follow(url.href, REDIRECT_URI);
    if (!page.url.startsWith(REDIRECT_URI)) page = await browser.submit(page, { identifier: 'm@example.com', password: 'mongo-password' }, { action: '/login', stopAt: REDIRECT_URI });
    return { callback: new URL(page.url), verifier };
  }

  it('authorizes on one process, exchanges the code on the other, refreshes on the first', async () => {
    const browser = new Browser(first.url);
    const { callback, verifier } = await authorize(browser, await rpVia(first));
    const tokens = await oidc.authorizationCodeGrant(await rpVia(second), callback, { pkceCodeVerifier: verifier });
    expect(tokens.claims()!.email).toBe('m@example.com');
    const refreshed = await oidc.refreshTokenGrant(await rpVia(first), tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(tokens.claims()!.sub);
  });

  it('keeps the session and the refresh token across a restart', async () => {
    const browser = new Browser(first.url);
    const { callback, verifier } = await authorize(browser, await rpVia(first));
    const tokens = await oidc.authorizationCodeGrant(await rpVia(first), callback, { pkceCodeVerifier: verifier });
    await first.stop();
    await first.start();
    const again = await authorize(browser, await rpVia(first), { prompt: 'none' });
    expect(again.callback.searchParams.get('code')).toBeTruthy();
    const refreshed = await oidc.refreshTokenGrant(await rpVia(first), tokens.refresh_token!);
    expect(refreshed.access_token).toBeDefined();
  }, 60_000);

  it('serves an app changed through one process changed by the other within seconds', async () => {
    await new AdminClient(first.url).ok('PATCH', '/apps/shared', { name: 'Renamed Portal' });
    const browser = new Browser(second.url);
    const config = await rpVia(second);
    const deadline = Date.now() + 10_000;
    let html = '';
    while (Date.now() < deadline) {
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', prompt: 'login' });
      url.port = String(second.port);
      html = (await browser.follow(url.href, REDIRECT_URI)).html;
      if (html.includes('Renamed Portal')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(html).toContain('Sign in to Renamed Portal');
  }, 30_000);
});
