/**
 * What the Redis Cluster and Sentinel end-to-end tests share: the sign-in scenarios every topology must pass
 * (password, code, refresh, rate limits, single-use under 8 parallel redemptions), and a light bounded load of
 * sign-ins that records every outcome with its time, to judge a failover or a resharding.
 */
import { Browser, type Page } from './browser.js';
import { codeIn, lastMessage, skipSendWait } from './outbox.js';
import { oidc, open, REDIRECT_URI, setUpRp, signIn, type Rp } from './rp.js';
import { createUniqueApp, startServer, type TestServer } from './server.js';

export const EMAIL = 'ha@example.com';
export const PASSWORD = 'highly available passphrase';
/** The server's request deadline in these tests (REQUEST_TIMEOUT_MS): no answer may take longer. */
export const REQUEST_TIMEOUT_MS = 5_000;

export interface HaApp {
  slug: string;
  /** The app id: its Redis hash tag (`{appId}`). */
  id: string;
  rp: Rp;
}

/** The environment of a Portcullis under test against `url`. */
export function haEnv(url: string, cluster: boolean): Record<string, string> {
  return { REDIS_URL: url, REDIS_CLUSTER: String(cluster), REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), TRUST_PROXY: 'true' };
}

/** An app with a unique slug, a first-party client, and one account with {@link EMAIL} / {@link PASSWORD}. */
export async function setUpHaApp(server: TestServer, prefix: string, settings: Record<string, unknown> = {}): Promise<HaApp> {
  const slug = await createUniqueApp(server, prefix);
  if (Object.keys(settings).length) await server.admin.ok('PATCH', `/apps/${slug}`, { settings });
  const rp = await setUpRp(server, slug);
  await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: EMAIL, password: PASSWORD });
  const { id } = (await server.stores.apps.findBySlug(slug))!;
  return { slug, id, rp };
}

/** A Portcullis on `url` with two apps: one signing in by password ({@link EMAIL}), one by emailed code. */
export async function startHaPortcullis(url: string, cluster: boolean, prefix: string): Promise<{ server: TestServer; app: HaApp; codeApp: HaApp }> {
  const server = await startServer({ env: haEnv(url, cluster) });
  const [app, codeApp] = await Promise.all([
    setUpHaApp(server, prefix),
    setUpHaApp(server, `${prefix}-code`, { login_methods: ['email_code'] }),
  ]);
  return { server, app, codeApp };
}

/** Signs in with the password and returns the tokens, retrying nothing: a failure throws. */
export async function passwordSignIn(app: HaApp, server: TestServer, browser = new Browser(server.url)) {
  return (await signIn(app.rp, browser, EMAIL, PASSWORD)).tokens;
}

function tokenRequest(app: HaApp, body: Record<string, string>): Promise<Response> {
  return fetch(app.rp.config.serverMetadata().token_endpoint!, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${app.rp.clientId}:${app.rp.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams(body),
  });
}

/** Registers the scenarios every topology must pass. `context` is read when the tests run (after `beforeAll`). */
export function signInScenarios(context: () => { server: TestServer; app: HaApp; codeApp: HaApp }): void {
  it('signs in with a password and refreshes the tokens', async () => {
    const { server, app } = context();
    const tokens = await passwordSignIn(app, server);
    expect(tokens.claims()!.email).toBe(EMAIL);
    const refreshed = await oidc.refreshTokenGrant(app.rp.config, tokens.refresh_token!);
    expect((await oidc.tokenIntrospection(app.rp.config, refreshed.access_token)).active).toBe(true);
  });

  it('signs in with an emailed code', async () => {
    const { server, codeApp } = context();
    await skipSendWait(server, codeApp.slug, EMAIL);
    const browser = new Browser(server.url);
    const flow = await codeApp.rp.begin();
    const start = await open(browser, flow);
    const sent = await browser.submit(start, { identifier: EMAIL }, { formaction: `${new URL(start.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
    expect(sent.html).toContain('name="code"');
    const code = codeIn(await lastMessage(server, codeApp.slug, EMAIL));
    const done = await browser.submit(sent, { code }, { action: '/code', stopAt: REDIRECT_URI });
    const tokens = await codeApp.rp.finish(flow, done.url);
    expect(tokens.claims()).toMatchObject({ email: EMAIL, amr: ['otp', 'email'] });
  });

  it('rate-limits password failures per address (429 after 10)', async () => {
    const { server, app } = context();
    const ip = `203.0.113.${Math.floor(Math.random() * 250) + 1}`;
    const post = async (password: string) => {
      const browser = new Browser(server.url, { 'x-forwarded-for': ip });
      const page = await open(browser, await app.rp.begin());
      return browser.submit(page, { identifier: EMAIL, password }, { action: '/login', stopAt: REDIRECT_URI });
    };
    for (let i = 0; i < 10; i++) expect((await post(`wrong ${i}`)).html).toContain('Invalid email or password');
    const refused = await post(PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.html).toContain('Too many attempts');
  });

  it('gives tokens for one code to exactly one of 8 parallel exchanges', async () => {
    const { server, app } = context();
    const browser = new Browser(server.url);
    const flow = await app.rp.begin();
    const page = await browser.submit(await open(browser, flow), { identifier: EMAIL, password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
    const code = new URL(page.url).searchParams.get('code')!;
    const answers = await Promise.all(Array.from({ length: 8 }, async () => {
      const res = await tokenRequest(app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    }));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const lost of answers.filter((a) => a.status !== 200)) expect(lost).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
}

/** One sign-in of the load: how it ended, when (ms since the epoch) it started, and how long it took. */
export interface Outcome {
  result: 'signed-in' | 503 | 'hang' | string;
  startedAt: number;
  ms: number;
}

/** A hard bound per sign-in (a few requests, each bounded by the server's deadline): beyond it, a hang. */
const SIGN_IN_BOUND_MS = REQUEST_TIMEOUT_MS + 5_000;

function failureOf(page: Page, step: string): string {
  return page.status === 503 ? '503' : `${step}: ${page.status} ${page.html.replace(/\s+/g, ' ').slice(0, 200)}`;
}

/** One full password sign-in through the forms and the token endpoint, classified (never throws). */
async function attemptSignIn(server: TestServer, app: HaApp): Promise<Outcome['result']> {
  const browser = new Browser(server.url);
  const flow = await app.rp.begin();
  const start = await open(browser, flow);
  if (!start.html.includes('name="password"')) return failureOf(start, 'authorize');
  const back = await browser.submit(start, { identifier: EMAIL, password: PASSWORD }, { action: '/login', stopAt: REDIRECT_URI });
  if (!back.url.startsWith(REDIRECT_URI)) return failureOf(back, 'login');
  try {
    await app.rp.finish(flow, back.url);
    return 'signed-in';
  } catch (error) {
    const { status, error: code, cause } = error as { status?: number; error?: string; cause?: unknown };
    if (status === 503 && code === 'temporarily_unavailable') return '503';
    // openid-client does not parse a 503's body (it expects 400/401 for OAuth errors): it hands the response over.
    if (!(cause instanceof Response)) return `token: ${status} ${code ?? String(error)}`;
    const text = await cause.text().catch(() => '');
    if (cause.status === 503 && /"error":"temporarily_unavailable"/.test(text)) return '503';
    return `token: ${cause.status} ${text.slice(0, 300)}`;
  }
}

async function boundedAttempt(server: TestServer, app: HaApp): Promise<Outcome> {
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => { timer = setTimeout(() => resolve('hang'), SIGN_IN_BOUND_MS); });
  const result = await Promise.race([attemptSignIn(server, app).catch((error) => `error: ${String(error)}`), hang]);
  clearTimeout(timer);
  return { result: result === '503' ? 503 : result, startedAt, ms: Date.now() - startedAt };
}

/**
 * Runs `workers` sign-in loops (a light, bounded load: one sign-in at a time per worker, 50 ms apart) while
 * `during` runs, then for `afterMs` more; returns every outcome in start order.
 */
export async function underLoad(server: TestServer, app: HaApp, during: () => Promise<void>, options: { workers?: number; afterMs?: number } = {}): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let stopAt = Infinity;
  const worker = async () => {
    while (Date.now() < stopAt) {
      outcomes.push(await boundedAttempt(server, app));
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const loops = Array.from({ length: options.workers ?? 2 }, worker);
  try {
    await during();
  } finally {
    stopAt = Date.now() + (options.afterMs ?? 0);
    await Promise.all(loops);
  }
  return outcomes.sort((a, b) => a.startedAt - b.startedAt);
}

/** What a failover cost, from the outcomes of {@link underLoad} and the moment of the kill. */
export function failoverReport(outcomes: Outcome[], killedAt: number) {
  const unavailable = outcomes.filter((o) => o.result === 503);
  const firstSuccessAfter = outcomes.find((o) => o.startedAt > (unavailable.at(-1)?.startedAt ?? killedAt) && o.result === 'signed-in');
  return {
    /** Anything but a sign-in or a 503: a 500, another error page, or a hang. Must be empty. */
    wrong: outcomes.filter((o) => o.result !== 'signed-in' && o.result !== 503),
    unavailableCount: unavailable.length,
    /** From the kill to the end of the last sign-in that got a 503. */
    unavailableSeconds: unavailable.length ? (Math.max(...unavailable.map((o) => o.startedAt + o.ms)) - killedAt) / 1000 : 0,
    /** From the kill to the start of the first successful sign-in after the last 503. */
    recoveredAfterMs: firstSuccessAfter ? firstSuccessAfter.startedAt - killedAt : undefined,
    signedIn: outcomes.filter((o) => o.result === 'signed-in').length,
  };
}

/** True when `browser` still has a session: a new authorization comes straight back to the RP, no password asked. */
export async function sessionStillWorks(server: TestServer, app: HaApp, browser: Browser): Promise<boolean> {
  const flow = await app.rp.begin();
  const page = await open(browser, flow);
  if (!page.url.startsWith(REDIRECT_URI)) return false;
  const tokens = await app.rp.finish(flow, page.url);
  return tokens.claims()!.email === EMAIL;
}
