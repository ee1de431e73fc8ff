/**
 * Partner sign-in links and the jwt-bearer grant, end to end through the started server: tokens are signed here
 * with jose, public keys are served by a small JWKS server this test starts on a free loopback port, and a real
 * openid-client relying party completes the code flow (with PKCE) that the link's landing page starts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt, type JWK } from 'jose';
import { Browser, type Page } from '../support/browser.js';
import { open, REDIRECT_URI, setUpRp, signIn, oidc, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

const START = 'https://rp.example.test/start';
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const HUB = 'https://hub.example';
const PSA = 'https://psa.example';

let server: TestServer;
let rp: Rp;
let issuer: string;
let jwks: { server: Server; url: string; keys: JWK[] };
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let esKey: { kid: string; privateKey: PrivateKey };
const tenants: Record<string, string> = {};

async function jwksServer(): Promise<typeof jwks> {
  const state = { keys: [] as JWK[] };
  const srv = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  return { server: srv, url: `http://127.0.0.1:${port}/jwks.json`, get keys() { return state.keys; }, set keys(k: JWK[]) { state.keys = k; } } as never;
}

async function newEsKey(): Promise<{ kid: string; privateKey: PrivateKey; publicJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

const now = () => Math.floor(Date.now() / 1000);

/** The claims Hub puts in its tokens (see the seed), overridable per test. */
function hubClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: HUB, aud: issuer, sub: 'hub-user-1', email: 'casey@client.example', name: 'Casey Client', tenant_slug: 'acme',
    client_id: 'C-100', access_level: 'company_admin', psa_contact_id: 'CT-7', psa_company_id: 'C-100', context: 'client_portal',
    jti: randomUUID(), iat: now(), exp: now() + 70, ...overrides,
  };
}

async function hs256(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(claims as never).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

async function es256(claims: Record<string, unknown>, key = esKey): Promise<string> {
  return new SignJWT(claims as never).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(key.privateKey);
}

/** Drops keys whose value is undefined (to leave a claim out). */
const without = (claims: Record<string, unknown>, ...names: string[]) => Object.fromEntries(Object.entries(claims).filter(([k]) => !names.includes(k)));

const link = (token: string, partner = 'hub', extra = '') => `${server.url}/apps/msp/sso/${partner}?token=${encodeURIComponent(token)}${extra}`;

/** Opens the link in `browser`; returns the page, or the landing URL on the relying party. */
const click = (browser: Browser, url: string): Promise<Page> => browser.follow(url, START);

/** After landing: the relying party starts an ordinary code flow with PKCE; the hand-off completes it without a page. */
async function completeAtRp(browser: Browser, target = rp) {
  const flow = await target.begin({ scope: 'openid email profile' });
  const back = await open(browser, flow);
  if (!back.url.startsWith(REDIRECT_URI)) throw new Error(`no code: ${back.status} ${back.url}\n${back.html.slice(0, 800)}`);
  return target.finish(flow, back.url);
}

async function audit(type?: string): Promise<any[]> {
  // Oldest first, as the tests read them (the API answers newest first).
  const events = [...(await server.admin.ok('GET', '/apps/msp/audit?limit=200')).items].reverse();
  return type ? events.filter((e: any) => e.type === type) : events;
}

/** Nobody is signed in in this browser: an authorization request shows the sign-in page. */
async function expectSignedOut(browser: Browser): Promise<void> {
  expect(browser.cookieNames().some((c) => c.startsWith('portcullis_handoff'))).toBe(false);
  const page = await open(browser, await rp.begin());
  expect(page.html).toContain('name="password"');
}

beforeAll(async () => {
  server = await startServer({ env: { PARTNER_JWKS_COOLDOWN_SECONDS: '1' } });
  await server.admin.ok('POST', '/apps', { slug: 'msp', name: 'MSP Portal' });
  rp = await setUpRp(server, 'msp', { initiate_login_uri: START });
  issuer = rp.issuer;
  tenants.acme = (await server.admin.ok('POST', '/apps/msp/tenants', { slug: 'acme', name: 'Acme Ltd', external_id: 'C-100' })).id;
  tenants.globex = (await server.admin.ok('POST', '/apps/msp/tenants', { slug: 'globex', name: 'Globex', external_id: 'C-200' })).id;
  const created = await server.admin.call('POST', '/apps/msp/partners', {
    slug: 'hub', name: 'Hub', issuer: HUB, secret: SECRET, required_claims: { context: 'client_portal' },
    claim_mapping: {
      subject: 'sub', email: 'email', name: 'name',
      tenant: { claim: 'tenant_slug', match: 'slug' },
      role: { claim: 'access_level', map: { company_admin: 'company_admin', own: 'user', company: 'user' }, default: 'user' },
      external_ids: { hub_user_id: 'sub', psa_contact_id: 'psa_contact_id', psa_company_id: 'psa_company_id' },
    },
    landing: { client_id: rp.clientId },
  });
  expect(created.status).toBe(201);

  jwks = await jwksServer();
  const first = await newEsKey();
  esKey = first;
  jwks.keys = [first.publicJwk];
  await server.admin.ok('POST', '/apps/msp/partners', {
    slug: 'psa', name: 'PSA', issuer: PSA, jwks_uri: jwks.url,
    claim_mapping: { subject: 'sub', tenant: { claim: 'client_id', match: 'external_id' }, role: { claim: 'access_level', map: { company_admin: 'company_admin' }, default: 'user' } },
    landing: { client_id: rp.clientId },
  });
});
afterAll(async () => {
  await server.close();
  await new Promise((resolve) => jwks.server.close(resolve));
});

describe('Admin API of partners', () => {
  it('never returns the secret, defaults what the issue pins, and lists the routes in the OpenAPI document', async () => {
    const hub = await server.admin.ok('GET', '/apps/msp/partners/hub');
    expect(JSON.stringify(hub)).not.toContain(SECRET);
    expect(hub).toMatchObject({
      slug: 'hub', issuer: HUB, audience: issuer, has_secret: true, jwks_uri: null, algorithms: ['HS256'], max_token_age_seconds: 70,
      clock_skew_seconds: 5, provisioning: 'create', landing: { client_id: rp.clientId }, sign_in_url: `${issuer}/sso/hub`,
    });
    expect((await server.admin.ok('GET', '/apps/msp/partners')).map((p: any) => p.slug).sort()).toEqual(['hub', 'psa']);
    expect(await server.admin.ok('GET', '/apps/msp/partners/psa')).toMatchObject({ has_secret: false, jwks_uri: jwks.url, algorithms: ['RS256', 'ES256'] });
    const doc: any = await (await fetch(`${server.url}/admin/v1/openapi.json`)).json();
    expect(Object.keys(doc.paths['/apps/{slug}/partners'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/apps/{slug}/partners/{partner}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
  });

  it('refuses bad configurations with 400, an unknown landing client with 404, a duplicate with 409', async () => {
    const base = { slug: 'bad', name: 'Bad', issuer: 'https://bad.example' };
    const status = async (body: Record<string, unknown>) => (await server.admin.call('POST', '/apps/msp/partners', { ...base, ...body })).status;
    expect(await status({})).toBe(400); // no key
    expect(await status({ secret: SECRET, jwks_uri: jwks.url })).toBe(400); // two keys
    expect(await status({ secret: 'short' })).toBe(400);
    expect(await status({ jwks: { keys: [esKey && jwks.keys[0]] }, algorithms: ['HS256'] })).toBe(400); // HS with public keys
    expect(await status({ secret: SECRET, algorithms: ['ES256'] })).toBe(400);
    expect(await status({ secret: SECRET, algorithms: ['none'] })).toBe(400);
    expect(await status({ secret: SECRET, max_token_age_seconds: 301 })).toBe(400);
    expect(await status({ jwks_uri: 'http://hub.example/jwks' })).toBe(400); // clear text over a network
    expect(await status({ secret: SECRET, landing: { client_id: 'nope' } })).toBe(404);
    expect((await server.admin.call('POST', '/apps/msp/partners', { ...base, slug: 'hub', secret: SECRET })).status).toBe(409);
    // PATCH with a new key replaces the old kind; the secret stays write-only.
    await server.admin.ok('POST', '/apps/msp/partners', { ...base, slug: 'temp', secret: SECRET });
    const patched = await server.admin.ok('PATCH', '/apps/msp/partners/temp', { jwks: { keys: [jwks.keys[0]] } });
    expect(patched).toMatchObject({ has_secret: false, algorithms: ['ES256'], jwks: { keys: [expect.objectContaining({ kty: 'EC' })] } });
    expect((await server.admin.call('DELETE', '/apps/msp/partners/temp')).status).toBe(204);
    expect((await server.admin.call('GET', '/apps/msp/partners/temp')).status).toBe(404);
  });
});

describe('partner sign-in links', () => {
  it('first click provisions the account into the mapped tenant and role; the RP gets an ID token with those claims', async () => {
    const browser = new Browser(server.url);
    const claims = hubClaims();
    const landed = await click(browser, link(await hs256(claims)));
    const landing = new URL(landed.url);
    expect(`${landing.origin}${landing.pathname}`).toBe(START);
    expect(landing.searchParams.get('iss')).toBe(issuer);
    expect(landing.searchParams.get('login_hint')).toBe('casey@client.example');

    const tokens = await completeAtRp(browser);
    const idToken = tokens.claims()!;
    expect(idToken).toMatchObject({ email: 'casey@client.example', name: 'Casey Client', tenant_slug: 'acme', tenant_id: tenants.acme, roles: ['company_admin'] });
    expect(idToken.amr).toEqual(['partner']);

    const account = await server.admin.ok('GET', `/apps/msp/accounts/${idToken.sub}`);
    expect(account.external_ids).toEqual({ hub_user_id: 'hub-user-1', psa_contact_id: 'CT-7', psa_company_id: 'C-100' });
    const used = (await audit('partner_link.used')).at(-1);
    expect(used).toMatchObject({ account_id: idToken.sub, ip: expect.any(String), detail: { partner: 'hub', jti: claims.jti, tenant_id: tenants.acme } });

    // The same person again (a new link): the same account, mapping updated (role and external id).
    const again = new Browser(server.url);
    await click(again, link(await hs256(hubClaims({ access_level: 'own', psa_contact_id: 'CT-8' }))));
    const second = (await completeAtRp(again)).claims()!;
    expect(second.sub).toBe(idToken.sub);
    expect(second.roles).toEqual(['user']);
    expect((await server.admin.ok('GET', `/apps/msp/accounts/${idToken.sub}`)).external_ids.psa_contact_id).toBe('CT-8');
  });

  it('refuses a second click of the same link, with no session', async () => {
    const token = await hs256(hubClaims({ sub: 'hub-user-2', email: 'second@client.example' }));
    expect((await click(new Browser(server.url), link(token))).url.startsWith(START)).toBe(true);
    const browser = new Browser(server.url);
    const page = await click(browser, link(token));
    expect(page.status).toBe(400);
    expect(page.html).toContain('This sign-in link was already used.');
    await expectSignedOut(browser);
    expect((await audit('partner_link.refused')).at(-1).detail).toMatchObject({ partner: 'hub', reason: 'jti_replayed', jti: decodeJwt(token).jti });
  });

  it('of 8 parallel clicks exactly one gets a session', async () => {
    const token = await hs256(hubClaims({ sub: 'hub-user-3', email: 'parallel@client.example' }));
    const browsers = Array.from({ length: 8 }, () => new Browser(server.url));
    const pages = await Promise.all(browsers.map((b) => click(b, link(token))));
    const winners = pages.filter((p) => p.url.startsWith(START));
    expect(winners).toHaveLength(1);
    expect(pages.filter((p) => p.status === 400 && p.html.includes('already used'))).toHaveLength(7);
    const winner = browsers[pages.indexOf(winners[0])];
    expect((await completeAtRp(winner)).claims()!.email).toBe('parallel@client.example');
    const accounts = await server.admin.ok('GET', '/apps/msp/accounts?email=parallel@client.example');
    expect(accounts).toHaveLength(1);
  });

  it('accepts the link as a POSTed form (no token in the URL), which no CSRF token can protect: the JWT does', async () => {
    const browser = new Browser(server.url);
    const token = await hs256(hubClaims({ sub: 'hub-user-4', email: 'posted@client.example' }));
    const res = await browser.request(`${server.url}/apps/msp/sso/hub`, {
      method: 'POST', body: new URLSearchParams({ token }), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://hub.example' },
    });
    expect(res.status).toBe(303);
    const landed = await browser.follow(res.headers.get('location')!, START);
    expect(landed.url.startsWith(START)).toBe(true);
    expect((await completeAtRp(browser)).claims()!.email).toBe('posted@client.example');
  });

  it('asks a browser signed in as somebody else which account to continue with: the link\'s person', async () => {
    await server.admin.ok('POST', '/apps/msp/accounts', { email: 'other@client.example', name: 'Other Person', password: 'other person password' });
    const browser = new Browser(server.url);
    expect((await signIn(rp, browser, 'other@client.example', 'other person password')).tokens.claims()!.email).toBe('other@client.example');
    const question = await click(browser, link(await hs256(hubClaims({ sub: 'hub-user-5', email: 'switch@client.example', name: 'Switch Person' }))));
    expect(question.html).toContain('Which account?');
    expect(question.html).toContain('Other Person');
    expect(question.html).toContain('Switch Person');
    // Without this page's token the answer is refused.
    const forged = await browser.request(question.url, { method: 'POST', body: new URLSearchParams({ continue_as: 'link' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(forged.status).toBe(403);
    await browser.submit(question, {}, { button: { name: 'continue_as', value: 'link' }, stopAt: START });
    expect((await completeAtRp(browser)).claims()!.email).toBe('switch@client.example');
  });

  it('lets a browser signed in as somebody else stay signed in as that person', async () => {
    await server.admin.ok('POST', '/apps/msp/accounts', { email: 'stayer@client.example', name: 'Stayer', password: 'stayer person password' });
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'stayer@client.example', 'stayer person password');
    const question = await click(browser, link(await hs256(hubClaims({ sub: 'hub-user-16', email: 'linked@client.example', name: 'Linked Person' }))));
    expect(question.html).toContain('Which account?');
    const landed = await browser.submit(question, {}, { button: { name: 'continue_as', value: 'current' }, stopAt: START });
    expect(landed.url.startsWith(START)).toBe(true);
    expect((await completeAtRp(browser)).claims()!.email).toBe('stayer@client.example');
    expect(browser.cookieNames().some((c) => c.startsWith('portcullis_handoff'))).toBe(false);
  });

  const refusals: Array<[string, () => Promise<string>, string, string, string?]> = [
    // Hub's tokens live 70 s: one clicked 71 s after issue is refused although its exp is within the clock skew.
    ['expired (71 s old)', () => hs256(hubClaims({ iat: now() - 71, exp: now() - 1 })), 'This sign-in link has expired. Ask for a new link.', 'token_too_old'],
    ['past its exp beyond the clock skew', () => hs256(hubClaims({ iat: now() - 30, exp: now() - 10 })), 'This sign-in link has expired. Ask for a new link.', 'expired:exp'],
    ['older than max_token_age_seconds with a later exp', () => hs256(hubClaims({ iat: now() - 71, exp: now() + 600 })), 'This sign-in link has expired.', 'token_too_old'],
    ['iat in the future', () => hs256(hubClaims({ iat: now() + 60, exp: now() + 120 })), 'This sign-in link is not valid.', 'iat_in_the_future'],
    ['wrong aud', () => hs256(hubClaims({ aud: 'https://elsewhere.example' })), 'This sign-in link is not valid.', 'claim_invalid:aud:check_failed'],
    ['wrong iss', () => hs256(hubClaims({ iss: 'https://evil.example' })), 'This sign-in link is not valid.', 'claim_invalid:iss:check_failed'],
    ['missing jti', async () => hs256(without(hubClaims(), 'jti')), 'This sign-in link is not valid.', 'missing_jti'],
    ['missing required claim', async () => hs256(without(hubClaims(), 'context')), 'This sign-in link is not valid.', 'required_claim_mismatch:context'],
    ['wrong signature', () => hs256(hubClaims(), 'another-secret-of-at-least-32-bytes!!'), 'This sign-in link is not valid.', 'bad_signature'],
    ['alg none', async () => unsigned(hubClaims()), 'This sign-in link is not valid.', 'algorithm_not_allowed'],
    ['HS256 against an ES partner', () => hs256(hubClaims({ iss: PSA })), 'This sign-in link is not valid.', 'algorithm_not_allowed', 'psa'],
    ['not a JWT', async () => 'garbage', 'This sign-in link is not valid.', 'malformed_token'],
  ];

  it.each(refusals)('refuses %s with the right page and no session', async (_name, mint, message, reason, partner = 'hub') => {
    const browser = new Browser(server.url);
    const page = await click(browser, link(await mint(), partner));
    expect(page.status).toBe(400);
    expect(page.html).toContain(message);
    // The precise reason is in the audit log, never on the page.
    expect(page.html).not.toContain(reason);
    await expectSignedOut(browser);
    expect((await audit('partner_link.refused')).at(-1).detail).toMatchObject({ partner, reason });
  });

  it('answers an unknown partner with "not set up", without revealing anything else', async () => {
    const browser = new Browser(server.url);
    const page = await click(browser, link(await hs256(hubClaims()), 'nobody'));
    expect(page.status).toBe(404);
    expect(page.html).toContain('Sign-in links are not set up for this portal.');
    await expectSignedOut(browser);
    expect((await audit('partner_link.refused')).at(-1).detail).toMatchObject({ partner: 'nobody', reason: 'unknown_partner' });
  });

  it('refuses a deactivated account with the generic page (no account enumeration)', async () => {
    const browser = new Browser(server.url);
    await click(browser, link(await hs256(hubClaims({ sub: 'hub-user-6', email: 'gone@client.example' }))));
    const [account] = await server.admin.ok('GET', '/apps/msp/accounts?email=gone@client.example');
    await server.admin.ok('PATCH', `/apps/msp/accounts/${account.id}`, { status: 'deactivated' });
    const page = await click(new Browser(server.url), link(await hs256(hubClaims({ sub: 'hub-user-6', email: 'gone@client.example' }))));
    expect(page.status).toBe(400);
    expect(page.html).toContain('This sign-in link is not valid.');
    expect((await audit('partner_link.refused')).at(-1).detail).toMatchObject({ reason: 'account_deactivated' });
  });

  it('ES256 with keys from the partner\'s jwks_uri, tenant matched by external_id, and a key rotation', async () => {
    const psaClaims = (overrides: Record<string, unknown> = {}) => ({
      iss: PSA, aud: issuer, sub: 'psa-contact-9', email: 'es@client.example', client_id: 'C-200', access_level: 'company_admin', jti: randomUUID(), iat: now(), exp: now() + 60, ...overrides,
    });
    const browser = new Browser(server.url);
    expect((await click(browser, link(await es256(psaClaims()), 'psa'))).url.startsWith(START)).toBe(true);
    expect((await completeAtRp(browser)).claims()).toMatchObject({ email: 'es@client.example', tenant_slug: 'globex', roles: ['company_admin'] });

    // The partner rotates: a new key replaces the old one on its JWKS endpoint.
    const old = esKey;
    const next = await newEsKey();
    jwks.keys = [next.publicJwk];
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the refetch cooldown (1 s in this test)
    const rotated = new Browser(server.url);
    expect((await click(rotated, link(await es256(psaClaims(), next), 'psa'))).url.startsWith(START)).toBe(true);
    expect((await completeAtRp(rotated)).claims()!.email).toBe('es@client.example');
    // The old key is gone from the partner's set: its tokens no longer work.
    const stale = await click(new Browser(server.url), link(await es256(psaClaims(), old), 'psa'));
    expect(stale.status).toBe(400);
    expect(stale.html).toContain('This sign-in link is not valid.');
    esKey = next;
  });
});

describe('provisioning off', () => {
  it('refuses a person without an account with the generic page, and signs in one found by email', async () => {
    await server.admin.ok('POST', '/apps/msp/partners', {
      slug: 'strict', name: 'Strict', issuer: 'https://strict.example', secret: SECRET, provisioning: 'off', landing: { client_id: rp.clientId },
    });
    const strict = (overrides: Record<string, unknown>) => hs256({ ...without(hubClaims(), 'context'), iss: 'https://strict.example', ...overrides });
    const unknown = await click(new Browser(server.url), link(await strict({ sub: 's-1', email: 'unknown@client.example' }), 'strict'));
    expect(unknown.status).toBe(400);
    expect(unknown.html).toContain('This sign-in link is not valid.');
    expect((await audit('partner_link.refused')).at(-1).detail).toMatchObject({ partner: 'strict', reason: 'no_account' });
    expect(await server.admin.ok('GET', '/apps/msp/accounts?email=unknown@client.example')).toEqual([]);

    const existing = await server.admin.ok('POST', '/apps/msp/accounts', { email: 'known@client.example' });
    const browser = new Browser(server.url);
    await click(browser, link(await strict({ sub: 's-2', email: 'known@client.example' }), 'strict'));
    expect((await completeAtRp(browser)).claims()!.sub).toBe(existing.id);
  });
});

describe('the jwt-bearer grant (RFC 7523)', () => {
  let partnerClient: { client_id: string; client_secret: string };
  beforeAll(async () => {
    partnerClient = await server.admin.ok('POST', '/apps/msp/clients', {
      name: 'Hub backend', redirect_uris: ['https://hub.example/cb'], grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
    });
  });

  const tokenRequest = (client: { client_id: string; client_secret: string }, assertion: string, scope = 'openid email profile') => fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, scope }),
  });

  it('returns tokens for the mapped account and tenant; the assertion is single use', async () => {
    const assertion = await hs256(hubClaims({ sub: 'hub-user-7', email: 'server@client.example', aud: `${issuer}/token` }));
    const res = await tokenRequest(partnerClient, assertion);
    const body: any = await res.json();
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), id_token: expect.any(String) });
    expect(body.refresh_token).toBeUndefined();
    const config = await oidc.discovery(new URL(issuer), partnerClient.client_id, partnerClient.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const idToken = decodeJwt(body.id_token);
    expect(idToken).toMatchObject({ iss: issuer, aud: partnerClient.client_id, email: 'server@client.example', tenant_slug: 'acme', roles: ['company_admin'], amr: ['partner'] });
    const userinfo = await oidc.fetchUserInfo(config, body.access_token, String(idToken.sub));
    expect(userinfo).toMatchObject({ email: 'server@client.example', tenant_id: tenants.acme });
    expect((await audit('partner_grant.used')).at(-1)).toMatchObject({ account_id: idToken.sub, detail: { partner: 'hub', jti: decodeJwt(assertion).jti } });

    const replay = await tokenRequest(partnerClient, assertion);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('gives invalid_grant for a bad assertion and unauthorized_client to a client without the grant', async () => {
    const expired = await tokenRequest(partnerClient, await hs256(hubClaims({ iat: now() - 71, exp: now() - 1 })));
    expect(expired.status).toBe(400);
    expect(await expired.json()).toMatchObject({ error: 'invalid_grant' });
    const forged = await tokenRequest(partnerClient, unsigned(hubClaims()));
    expect(await forged.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await audit('partner_grant.refused')).at(-1).detail).toMatchObject({ reason: 'algorithm_not_allowed' });

    const rpClient = { client_id: rp.clientId, client_secret: rp.clientSecret! };
    const refused = await tokenRequest(rpClient, await hs256(hubClaims()));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'unauthorized_client' });
  });
});

/** An `alg: none` token (RFC 7519 §6): never accepted. */
function unsigned(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

describe('rate limit', () => {
  it('answers 429 after RATE_LIMIT_IP_PER_HOUR refused links from one address, even for a valid link', async () => {
    const limited = await startServer({ env: { RATE_LIMIT_IP_PER_HOUR: '2' } });
    try {
      await limited.admin.ok('POST', '/apps', { slug: 'msp', name: 'MSP' });
      const target = await setUpRp(limited, 'msp', { initiate_login_uri: START });
      await limited.admin.ok('POST', '/apps/msp/partners', { slug: 'hub', name: 'Hub', issuer: HUB, secret: SECRET, landing: { client_id: target.clientId } });
      const url = async (claims: Record<string, unknown>) => `${limited.url}/apps/msp/sso/hub?token=${await hs256({ ...hubClaims(), aud: target.issuer, ...claims })}`;
      for (let i = 0; i < 2; i++) expect((await new Browser(limited.url).follow(await url({ iss: 'https://evil.example' }), START)).status).toBe(400);
      const page = await new Browser(limited.url).follow(await url({}), START);
      expect(page.status).toBe(429);
      expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(page.html).toContain('Too many sign-in links could not be used.');
    } finally {
      await limited.close();
    }
  });
});
