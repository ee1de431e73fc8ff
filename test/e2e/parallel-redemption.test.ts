/**
 * One authorization code or refresh token, redeemed by several requests at once (an attacker racing the RP, or a
 * retrying RP): exactly one may win (RFC 6749 §4.1.2, RFC 9700 §4.2.4 / §4.14.2), the others get invalid_grant, and
 * the grant is revoked as for sequential reuse. Run against the embedded store and against Redis.
 */
import { Browser } from '../support/browser.js';
import { oidc, open, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const PARALLEL = 8;

describe.each(['embedded', 'redis'] as const)('parallel redemption (%s store)', (store) => {
  let redis: RedisServer | undefined;
  let server: TestServer;
  let rp: Rp;

  beforeAll(async () => {
    if (store === 'redis') redis = await startRedisServer();
    server = await startServer({ env: redis ? { REDIS_URL: redis.url } : {} });
    rp = await setUpRp(server, 'race');
    await server.admin.ok('POST', '/apps/race/accounts', { email: 'race@example.com', password: 'race-password' });
  });
  afterAll(async () => {
    await server.close();
    await redis?.close();
  });

  function tokenRequest(body: Record<string, string>) {
    return fetch(rp.config.serverMetadata().token_endpoint!, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${rp.clientId}:${rp.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams(body),
    });
  }

  async function race(body: Record<string, string>) {
    const answers = await Promise.all(Array.from({ length: PARALLEL }, async () => {
      const res = await tokenRequest(body);
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    }));
    return { won: answers.filter((a) => a.status === 200), lost: answers.filter((a) => a.status !== 200) };
  }

  async function isActive(token: string): Promise<boolean> {
    return (await oidc.tokenIntrospection(rp.config, token)).active;
  }

  it(`gives tokens for one code to exactly one of ${PARALLEL} parallel exchanges, and revokes them`, async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    const page = await browser.submit(await open(browser, flow), { identifier: 'race@example.com', password: 'race-password' }, { action: '/login', stopAt: REDIRECT_URI });
    const code = new URL(page.url).searchParams.get('code')!;

    const { won, lost } = await race({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier });

    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(PARALLEL - 1);
    for (const answer of lost) expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // As for sequential reuse, what the winner got no longer works.
    expect(await isActive(won[0].body.access_token)).toBe(false);
    const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: won[0].body.refresh_token });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it(`rotates one refresh token into exactly one new refresh token under ${PARALLEL} parallel refreshes`, async () => {
    const { tokens } = await signIn(rp, new Browser(server.url), 'race@example.com', 'race-password');
    expect(tokens.refresh_token).toBeDefined();

    const { won, lost } = await race({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });

    expect(won).toHaveLength(1);
    expect(won[0].body.refresh_token).toEqual(expect.any(String));
    for (const answer of lost) expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // Reuse detected: the whole grant is revoked, the new refresh token included (RFC 9700 §4.14.2).
    const again = await tokenRequest({ grant_type: 'refresh_token', refresh_token: won[0].body.refresh_token });
    expect(again.status).toBe(400);
    expect(await isActive(tokens.access_token)).toBe(false);
  });

  it('still refreshes normally, one request at a time', async () => {
    const { tokens } = await signIn(rp, new Browser(server.url), 'race@example.com', 'race-password');
    const first = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    const second = await oidc.refreshTokenGrant(rp.config, first.refresh_token!);
    expect(await isActive(second.access_token)).toBe(true);
  });
});
