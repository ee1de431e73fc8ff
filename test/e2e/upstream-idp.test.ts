/**
 * Upstream identity providers end to end. The upstream is real: another Portcullis app on the same test server, with
 * its own accounts, tenant and sign-in pages, and a client registered for the downstream app's callbacks. A person
 * signs in through the downstream app's sign-in page, "Continue with Corp ID", the upstream's HTML forms, and back;
 * an openid-client relying party of the downstream app checks the ID token it gets.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Browser, decode, type Page } from '../support/browser.js';
import { choose, open, REDIRECT_URI, setUpRp, signIn, type Rp } from '../support/rp.js';
import { createUniqueApp, startServer, type TestServer } from '../support/server.js';

const PASSWORD = 'velvet-harbor-lantern-1893';

let server: TestServer;
let rp: Rp;
let up: string;
let down: string;
let upstreamClient: { client_id: string; client_secret: string };
const upstreamIssuer = () => `${server.url}/apps/${up}`;
const callbackOf = (slug: string) => `${server.url}/apps/${down}/connections/${slug}/callback`;
const upstreamAccounts: Record<string, { id: string; email: string }> = {};

async function upstreamAccount(key: string, email: string, extra: Record<string, unknown> = {}) {
  const created = await server.admin.ok('POST', `/apps/${up}/accounts`, { email, password: PASSWORD, name: `Up ${key}`, email_verified: true, ...extra });
  upstreamAccounts[key] = { id: created.id, email };
  return created;
}

async function audit(type: string): Promise<any[]> {
  return (await server.admin.ok('GET', `/apps/${down}/audit?type=${type}&limit=200`)).items;
}

/** "Continue with …" on the downstream sign-in page: the upstream's own sign-in page (or where it stopped). */
function continueWith(browser: Browser, page: Page, slug: string, stopAt?: string): Promise<Page> {
  return browser.submit(page, {}, { action: `/connections/${slug}`, stopAt });
}

/**
 * The downstream callback answers with a page that moves on by itself (`<meta http-equiv="refresh">`, which a real
 * browser follows; see interactions/upstream.ts): followed here as a browser does.
 */
async function onward(browser: Browser, page: Page, stopAt = REDIRECT_URI): Promise<Page> {
  const next = /<meta http-equiv="refresh" content="0; url=([^"]+)">/.exec(page.html)?.[1];
  return next ? browser.follow(decode(next), stopAt) : page;
}

/** Signs in at the upstream's HTML form; follows everything back to the relying party (or stops at `stopAt`). */
async function signInUpstream(browser: Browser, page: Page, email: string, stopAt = REDIRECT_URI): Promise<Page> {
  expect(page.url.startsWith(`${upstreamIssuer()}/interaction/`)).toBe(true);
  return onward(browser, await browser.submit(page, { identifier: email, password: PASSWORD }, { action: '/login', stopAt }), stopAt);
}

/** The whole sign-in through connection `slug`; the tokens of the downstream relying party. */
async function federatedSignIn(email: string, slug = 'corp', browser = new Browser(server.url), params: Record<string, string> = {}) {
  const flow = await rp.begin(params);
  const page = await open(browser, flow);
  expect(page.html).toContain('name="password"');
  const back = await signInUpstream(browser, await continueWith(browser, page, slug), email);
  if (!back.url.startsWith(REDIRECT_URI)) throw new Error(`not back at the RP: ${back.status} ${back.url}\n${back.html.slice(0, 1200)}`);
  return { tokens: await rp.finish(flow, back.url), browser };
}

/** Nobody is signed in to the downstream app in this browser. */
async function expectSignedOut(browser: Browser) {
  const page = await open(browser, await rp.begin());
  expect(page.url).toContain(`/apps/${down}/interaction/`);
  expect(page.html).toContain('name="password"');
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

beforeAll(async () => {
  server = await startServer();
  up = await createUniqueApp(server, 'upstream');
  down = await createUniqueApp(server, 'portal');
  rp = await setUpRp(server, down);
  upstreamClient = await server.admin.ok('POST', `/apps/${up}/clients`, {
    name: 'Portal sign-in', first_party: true, redirect_uris: ['corp', 'closed', 'contoso-idp'].map(callbackOf),
  });
  const upTenant = await server.admin.ok('POST', `/apps/${up}/tenants`, { slug: 'contoso-hq', name: 'Contoso HQ' });
  await upstreamAccount('new', 'nora@corp.example');
  await upstreamAccount('unverified', 'ada@corp.example', { email_verified: false });
  await upstreamAccount('verified', 'bob@corp.example');
  await upstreamAccount('closed', 'cy@corp.example');
  await upstreamAccount('deleted', 'dee@corp.example');
  const carol = await upstreamAccount('carol', 'carol@contoso.example');
  await server.admin.ok('PUT', `/apps/${up}/tenants/${upTenant.id}/members/${carol.id}`, { roles: ['company_admin'] });
  const common = { preset: 'generic', issuer: upstreamIssuer(), client_id: upstreamClient.client_id, client_secret: upstreamClient.client_secret };
  await server.admin.ok('POST', `/apps/${down}/connections`, { ...common, slug: 'corp', display_name: 'Corp ID', link_by_verified_email: true });
  await server.admin.ok('POST', `/apps/${down}/connections`, { ...common, slug: 'closed', display_name: 'Closed ID', provisioning: 'off', position: 5 });
  await server.admin.ok('POST', `/apps/${down}/connections`, {
    ...common, slug: 'contoso-idp', display_name: 'Contoso', claim_mapping: { role: { claim: 'roles', map: { company_admin: 'company_admin' }, default: 'user' } },
  });
  await server.admin.ok('POST', `/apps/${down}/tenants`, { slug: 'contoso', name: 'Contoso Ltd' });
  await server.admin.ok('PATCH', `/apps/${down}/tenants/contoso`, { connection: 'contoso-idp', domains: ['Contoso.example'] });
}, 60_000);
afterAll(() => server.close());

describe('Admin API of connections', () => {
  it('keeps the client secret write-only, fills the preset, shows the redirect URI, and is in the OpenAPI document', async () => {
    const corp = await server.admin.ok('GET', `/apps/${down}/connections/corp`);
    expect(JSON.stringify(corp)).not.toContain(upstreamClient.client_secret);
    expect(corp).toMatchObject({
      slug: 'corp', type: 'oidc', preset: 'generic', display_name: 'Corp ID', issuer: upstreamIssuer(), client_secret_set: true,
      token_endpoint_auth_method: 'client_secret_basic', scopes: ['openid', 'email', 'profile'], provisioning: 'create', link_by_verified_email: true,
      enabled: true, redirect_uri: callbackOf('corp'), claim_mapping: { subject: 'sub', email: 'email', email_verified: 'email_verified', name: 'name' },
    });
    const stored = await server.stores.connections.find((await server.portcullis.services.apps.require(down)).id, 'corp');
    expect(stored!.secretCiphertext).toMatch(/^v1\./);
    expect(stored!.secretCiphertext).not.toContain(upstreamClient.client_secret);
    // Button order: position first, then creation order.
    expect((await server.admin.ok('GET', `/apps/${down}/connections`)).map((c: any) => c.slug)).toEqual(['closed', 'corp', 'contoso-idp']);
    const google = await server.admin.ok('POST', `/apps/${down}/connections`, { slug: 'google', preset: 'google', client_id: 'g', client_secret: 's', enabled: false });
    expect(google).toMatchObject({ issuer: 'https://accounts.google.com', display_name: 'Google', enabled: false });
    const ms = await server.admin.ok('POST', `/apps/${down}/connections`, { slug: 'ms', preset: 'microsoft', client_id: 'm', client_secret: 's', enabled: false, allowed_tenant_ids: ['72f988bf-86f1-41af-91ab-2d7cd011db47'] });
    expect(ms).toMatchObject({ issuer: 'https://login.microsoftonline.com/organizations/v2.0', claim_mapping: { email_verified: 'xms_edov' } });
    expect((await server.admin.call('DELETE', `/apps/${down}/connections/google`)).status).toBe(204);
    expect((await server.admin.call('DELETE', `/apps/${down}/connections/ms`)).status).toBe(204);
    const doc: any = await (await fetch(`${server.url}/admin/v1/openapi.json`)).json();
    expect(Object.keys(doc.paths['/apps/{slug}/connections'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/apps/{slug}/connections/{connection}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(Object.keys(doc.paths['/apps/{slug}/accounts/{id}/identities/{identity}'])).toEqual(['delete']);
    expect((await server.admin.ok('GET', `/apps/${down}/tenants/contoso`))).toMatchObject({ connection: 'contoso-idp', domains: ['contoso.example'], allow_password: false });
  });

  it('answers bad input on every route with a clear 4xx', async () => {
    const base = `/apps/${down}/connections`;
    const ok = { slug: 'x1', issuer: upstreamIssuer(), client_id: 'c', client_secret: 's' };
    const cases: Array<[string, string, unknown, number, string?]> = [
      ['POST', base, { ...ok, slug: 'Not A Slug' }, 400, 'slug'],
      ['POST', base, { ...ok, client_id: undefined }, 400, 'client_id'],
      ['POST', base, { ...ok, issuer: 'http://idp.example.com' }, 400, 'issuer'],
      ['POST', base, { ...ok, issuer: 'not a url' }, 400, 'issuer'],
      ['POST', base, { ...ok, issuer: undefined }, 400, 'issuer'],
      ['POST', base, { ...ok, unknown: 1 }, 400],
      ['POST', base, { ...ok, scopes: ['email'] }, 400, 'scopes'],
      ['POST', base, { ...ok, allowed_tenant_ids: ['72f988bf-86f1-41af-91ab-2d7cd011db47'] }, 400, 'allowed_tenant_ids'],
      ['POST', base, { ...ok, client_secret: undefined, token_endpoint_auth_method: 'client_secret_post' }, 400, 'client_secret'],
      ['POST', base, { ...ok, private_key_jwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' } }, 400, 'private_key_jwk.d'],
      ['POST', base, { ...ok, provisioning: 'sometimes' }, 400, 'provisioning'],
      ['POST', base, { ...ok, display_name: 'x'.repeat(101) }, 400, 'display_name'],
      ['POST', base, { ...ok, claim_mapping: { email: 'e.mail' } }, 400, 'claim_mapping.email'],
      ['POST', base, { ...ok, slug: 'corp' }, 409],
      ['POST', base, '{not json', 400],
      ['GET', `${base}/missing`, undefined, 404],
      ['PATCH', `${base}/corp`, { enabled: 'yes' }, 400, 'enabled'],
      ['PATCH', `${base}/corp`, { position: -1 }, 400, 'position'],
      ['PATCH', `${base}/corp`, { token_endpoint_auth_method: 'private_key_jwt' }, 400, 'private_key_jwk'],
      ['PATCH', `${base}/missing`, { enabled: true }, 404],
      ['DELETE', `${base}/missing`, undefined, 404],
      ['GET', `/apps/${down}/accounts/acc_missing/identities`, undefined, 404],
      ['DELETE', `/apps/${down}/accounts/acc_missing/identities/idl_x`, undefined, 404],
      ['PATCH', `/apps/${down}/tenants/contoso`, { connection: 'missing' }, 400, 'connection'],
      ['PATCH', `/apps/${down}/tenants/contoso`, { domains: ['not a domain'] }, 400, 'domains.0'],
      ['PATCH', `/apps/${down}/tenants/contoso`, { allow_password: 'no' }, 400, 'allow_password'],
    ];
    for (const [method, path, body, status, field] of cases) {
      const res = await server.admin.call(method, path, body);
      expect({ method, path, body, status: res.status }).toEqual({ method, path, body, status });
      if (field) expect({ path, fields: res.body.fields?.map((f: any) => f.path) }).toEqual({ path, fields: expect.arrayContaining([field]) });
    }
    // Domains are unique per app.
    await server.admin.ok('POST', `/apps/${down}/tenants`, { slug: 'other', name: 'Other' });
    expect((await server.admin.call('PATCH', `/apps/${down}/tenants/other`, { domains: ['contoso.example'] })).status).toBe(409);
  });
});

describe('signing in through the upstream', () => {
  let firstSub: string;

  it('shows a "Continue with" button per enabled app-wide connection', async () => {
    const page = await open(new Browser(server.url), await rp.begin());
    expect(page.html).toContain('Continue with Corp ID');
    expect(page.html).toContain('Continue with Closed ID');
    // A tenant's own IdP is reached through its domains, not a button.
    expect(page.html).not.toContain('Continue with Contoso');
  });

  it('provisions a new person: the ID token has the downstream sub and the mapped email and name; amr records the federation', async () => {
    const { tokens } = await federatedSignIn('nora@corp.example');
    const claims = tokens.claims()!;
    expect(claims.sub).not.toBe(upstreamAccounts.new.id);
    expect(claims).toMatchObject({ email: 'nora@corp.example', email_verified: true, name: 'Up new', amr: ['fed'] });
    firstSub = claims.sub;
    const identities = await server.admin.ok('GET', `/apps/${down}/accounts/${firstSub}/identities`);
    expect(identities).toEqual([{ id: expect.stringMatching(/^idl_/), connection: 'corp', issuer: upstreamIssuer(), subject: upstreamAccounts.new.id, created_at: expect.any(String) }]);
    expect((await audit('upstream.succeeded'))[0]).toMatchObject({ account_id: firstSub, detail: { connection: 'corp', how: 'created' } });
    expect((await audit('upstream.started')).length).toBeGreaterThan(0);
  });

  it('reuses the link on the next sign-in (another browser): the same account, no new one', async () => {
    const before = (await server.admin.ok('GET', `/apps/${down}/accounts`)).length;
    const { tokens } = await federatedSignIn('nora@corp.example');
    expect(tokens.claims()!.sub).toBe(firstSub);
    expect((await server.admin.ok('GET', `/apps/${down}/accounts`)).length).toBe(before);
    expect((await audit('upstream.succeeded'))[0].detail.how).toBe('link');
  });

  it('links by email only when the upstream says the email is verified', async () => {
    const ada = await server.admin.ok('POST', `/apps/${down}/accounts`, { email: 'ada@corp.example', password: PASSWORD, email_verified: true });
    const bob = await server.admin.ok('POST', `/apps/${down}/accounts`, { email: 'bob@corp.example', password: PASSWORD });
    const unverified = (await federatedSignIn('ada@corp.example')).tokens.claims()!;
    expect(unverified.sub).not.toBe(ada.id);
    expect(unverified.email).toBeUndefined(); // the address belongs to another account here: never linked, not copied
    expect(await server.admin.ok('GET', `/apps/${down}/accounts/${ada.id}/identities`)).toEqual([]);
    const verified = (await federatedSignIn('bob@corp.example')).tokens.claims()!;
    expect(verified).toMatchObject({ sub: bob.id, email: 'bob@corp.example', email_verified: true });
    expect((await server.admin.ok('GET', `/apps/${down}/accounts/${bob.id}/identities`))[0]).toMatchObject({ connection: 'corp', subject: upstreamAccounts.verified.id });
  });

  it('removes a linked identity through the Admin API; the next sign-in links anew', async () => {
    const [identity] = await server.admin.ok('GET', `/apps/${down}/accounts/${firstSub}/identities`);
    expect((await server.admin.call('DELETE', `/apps/${down}/accounts/${firstSub}/identities/${identity.id}`)).status).toBe(204);
    expect(await server.admin.ok('GET', `/apps/${down}/accounts/${firstSub}/identities`)).toEqual([]);
    expect((await server.admin.call('DELETE', `/apps/${down}/accounts/${firstSub}/identities/${identity.id}`)).status).toBe(404);
  });

  it('deleting an account deletes its linked identities: the next sign-in is a new person', async () => {
    const appId = (await server.portcullis.services.apps.require(down)).id;
    const gone = (await federatedSignIn('dee@corp.example')).tokens.claims()!.sub;
    expect(await server.stores.identityLinks.listByAccount(appId, gone)).toHaveLength(1);
    expect((await server.admin.call('DELETE', `/apps/${down}/accounts/${gone}`)).status).toBe(204);
    expect(await server.stores.identityLinks.listByAccount(appId, gone)).toEqual([]);
    const again = (await federatedSignIn('dee@corp.example')).tokens.claims()!;
    expect(again.sub).not.toBe(gone);
    expect(again.email).toBe('dee@corp.example');
  });

  it('with provisioning off shows the no-account page, the same whether or not the email has an account, and no session', async () => {
    const pages: Page[] = [];
    for (const email of ['cy@corp.example', 'bob@corp.example']) {
      const browser = new Browser(server.url);
      const page = await open(browser, await rp.begin());
      const shown = await signInUpstream(browser, await continueWith(browser, page, 'closed'), email, '-');
      pages.push(shown);
      await expectSignedOut(browser);
    }
    for (const shown of pages) {
      expect(shown.status).toBe(403);
      expect(shown.html).toContain('No account here yet');
      expect(shown.html).toContain('Back to sign-in');
    }
    const strip = (html: string) => html.replace(/\/interaction\/[^/"]+/g, '');
    expect(strip(pages[0].html)).toBe(strip(pages[1].html));
    // The upstream's single-use code is not copied into the page's links (the language switcher's among them).
    expect(pages[0].html).not.toMatch(/[?&]code=/);
    expect((await audit('upstream.failed')).slice(0, 2).map((e) => e.detail.reason)).toEqual(['provisioning_off', 'provisioning_off']);
  });
});

describe('several accounts, stored tokens', () => {
  it('with accounts_per_email: many, a verified email offers every account with it and the person chooses', async () => {
    const many = await createUniqueApp(server, 'many');
    await server.admin.ok('PATCH', `/apps/${many}`, { settings: { accounts_per_email: 'many' } });
    const manyRp = await setUpRp(server, many);
    const redirect = `${server.url}/apps/${many}/connections/corp/callback`;
    await server.admin.ok('PATCH', `/apps/${up}/clients/${upstreamClient.client_id}`, { redirect_uris: [...['corp', 'closed', 'contoso-idp'].map(callbackOf), redirect] });
    await server.admin.ok('POST', `/apps/${many}/connections`, {
      slug: 'corp', issuer: upstreamIssuer(), client_id: upstreamClient.client_id, client_secret: upstreamClient.client_secret, link_by_verified_email: true,
    });
    const ids: string[] = [];
    for (const name of ['Bob at Acme', 'Bob at Globex']) ids.push((await server.admin.ok('POST', `/apps/${many}/accounts`, { email: 'bob@corp.example', name })).id);
    const browser = new Browser(server.url);
    const flow = await manyRp.begin();
    const page = await open(browser, flow);
    const chooser = await signInUpstream(browser, await continueWith(browser, page, 'corp'), 'bob@corp.example');
    expect(chooser.html).toContain('Choose an account');
    const back = await choose(browser, chooser, 'Bob at Globex');
    expect((await manyRp.finish(flow, back.url)).claims()!.sub).toBe(ids[1]);
  });

  it('store_tokens keeps the upstream tokens on the link, encrypted; without it nothing is kept', async () => {
    const appId = (await server.portcullis.services.apps.require(down)).id;
    const nora = (await server.admin.ok('GET', `/apps/${down}/accounts?email=nora@corp.example`))[0];
    const plain = await server.stores.identityLinks.listByAccount(appId, (await server.admin.ok('GET', `/apps/${down}/accounts?email=bob@corp.example`))[0].id);
    expect(plain[0].tokensCiphertext).toBeUndefined();
    await server.admin.ok('PATCH', `/apps/${down}/connections/corp`, { store_tokens: true });
    try {
      await federatedSignIn('nora@corp.example');
      const [link] = await server.stores.identityLinks.listByAccount(appId, nora.id);
      expect(link.tokensCiphertext).toMatch(/^v1\./);
      const tokens = server.portcullis.services.identityLinks.tokensOf(link)!;
      expect(tokens).toMatchObject({ access_token: expect.any(String), id_token: expect.any(String), expires_at: expect.any(Number) });
      expect(link.tokensCiphertext).not.toContain(String(tokens.access_token));
      expect(JSON.stringify(await server.admin.ok('GET', `/apps/${down}/accounts/${nora.id}/identities`))).not.toContain(String(tokens.access_token));
    } finally {
      await server.admin.ok('PATCH', `/apps/${down}/connections/corp`, { store_tokens: false });
    }
  });
});

describe('a callback that does not belong to this sign-in', () => {
  /** Starts a sign-in in `browser` and signs in upstream, stopping at the downstream callback URL. */
  async function callbackUrl(browser: Browser, email = 'nora@corp.example'): Promise<string> {
    const page = await open(browser, await rp.begin());
    const stopped = await signInUpstream(browser, await continueWith(browser, page, 'corp'), email, callbackOf('corp'));
    expect(stopped.url.startsWith(`${callbackOf('corp')}?`)).toBe(true);
    return stopped.url;
  }

  it('a wrong state gives a clear page and no session', async () => {
    const browser = new Browser(server.url);
    const url = new URL(await callbackUrl(browser));
    url.searchParams.set('state', 'forged-state');
    const page = await browser.follow(url.href, REDIRECT_URI);
    expect(page.status).toBe(400);
    expect(page.html).toContain('This sign-in has expired');
    await expectSignedOut(browser);
    expect((await audit('upstream.failed'))[0].detail.reason).toBe('unknown_state');
  });

  it('the callback page moves on by itself to this sign-in\'s own callback, and sends no referrer', async () => {
    const browser = new Browser(server.url);
    const url = await callbackUrl(browser);
    const res = await browser.request(url);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(html).toContain('Signing you in');
    expect(decode(/<meta http-equiv="refresh" content="0; url=([^"]+)">/.exec(html)![1])).toMatch(new RegExp(`^/apps/${down}/interaction/[^/]+/connections/corp/callback\\?code=`));
  });

  it('a replayed callback gives the same page, also in the browser that completed it', async () => {
    const browser = new Browser(server.url);
    const url = await callbackUrl(browser);
    const done = await onward(browser, await browser.follow(url, REDIRECT_URI));
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    const again = await browser.follow(url, REDIRECT_URI);
    expect(again.status).toBe(400);
    expect(again.html).toContain('This sign-in has expired');
    const other = new Browser(server.url);
    expect((await other.follow(url, REDIRECT_URI)).status).toBe(400);
    await expectSignedOut(other);
  });

  it('an attacker\'s callback opened in another person\'s browser signs nobody in (no login CSRF)', async () => {
    const attacker = new Browser(server.url);
    const url = await callbackUrl(attacker);
    const victim = new Browser(server.url);
    await open(victim, await rp.begin()); // the victim has a sign-in of their own in progress
    const page = await onward(victim, await victim.follow(url, REDIRECT_URI));
    expect(page.status).toBe(400);
    expect(page.url).not.toContain(REDIRECT_URI);
    await expectSignedOut(victim);
  });

  it('an error from the upstream (the person cancels there) gives a page with the way back, and no session', async () => {
    const browser = new Browser(server.url);
    const page = await open(browser, await rp.begin());
    const upstreamPage = await continueWith(browser, page, 'corp');
    const shown = await onward(browser, await browser.submit(upstreamPage, {}, { action: '/abort', stopAt: REDIRECT_URI }));
    expect(shown.status).toBe(400);
    expect(shown.html).toContain('Sign-in cancelled');
    const back = /href="([^"]*\/interaction\/[^"]+)"/.exec(shown.html)![1];
    const signInPage = await browser.follow(back, REDIRECT_URI);
    expect(signInPage.html).toContain('Continue with Corp ID');
    await expectSignedOut(browser);
    expect((await audit('upstream.failed'))[0].detail.reason).toBe('authorization_access_denied');
  });

  it('an unreachable upstream gives a clear page, and no session', async () => {
    await server.admin.ok('POST', `/apps/${down}/connections`, { slug: 'gone', issuer: `http://127.0.0.1:${await closedPort()}/apps/gone`, client_id: 'c', client_secret: 's', display_name: 'Gone ID' });
    try {
      const browser = new Browser(server.url);
      const page = await open(browser, await rp.begin());
      const shown = await continueWith(browser, page, 'gone', '-');
      expect(shown.status).toBe(503);
      expect(shown.html).toContain('Gone ID is not available');
      await expectSignedOut(browser);
      expect((await audit('upstream.failed'))[0].detail).toMatchObject({ connection: 'gone' });
    } finally {
      await server.admin.ok('DELETE', `/apps/${down}/connections/gone`);
    }
  });
});

describe('home realm discovery', () => {
  it('an email in a tenant\'s domain skips the password and goes to its IdP; the person joins that tenant with the mapped role', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin();
    const page = await open(browser, flow);
    const upstreamPage = await browser.submit(page, { identifier: 'Carol@Contoso.example', password: 'not-checked-anywhere' }, { action: '/login' });
    expect(upstreamPage.url.startsWith(`${upstreamIssuer()}/interaction/`)).toBe(true);
    expect(upstreamPage.html).toContain('value="Carol@Contoso.example"'); // sent on as login_hint
    const back = await signInUpstream(browser, upstreamPage, 'carol@contoso.example');
    const claims = (await rp.finish(flow, back.url)).claims()!;
    expect(claims).toMatchObject({ email: 'carol@contoso.example', tenant_slug: 'contoso', roles: ['company_admin'], amr: ['fed'] });
    expect((await audit('sign_in.failed')).filter((e) => e.detail.method === 'password')).toEqual([]);
  });

  it('"Email me a code" with such an email also goes to the IdP: no code is sent', async () => {
    const browser = new Browser(server.url);
    const page = await open(browser, await rp.begin());
    const before = (await server.admin.ok('GET', `/apps/${down}/outbox`)).length;
    const upstreamPage = await browser.submit(page, { identifier: 'carol@contoso.example' }, {
      action: '/login', formaction: /formaction="([^"]*\/code\/send)"/.exec(page.html)![1], button: { name: 'channel', value: 'email' },
    });
    expect(upstreamPage.url.startsWith(`${upstreamIssuer()}/interaction/`)).toBe(true);
    expect((await server.admin.ok('GET', `/apps/${down}/outbox`)).length).toBe(before);
  });

  it('tenant= on the authorization request goes straight to the tenant\'s IdP', async () => {
    const browser = new Browser(server.url);
    const flow = await rp.begin({ tenant: 'contoso' });
    const upstreamPage = await open(browser, flow);
    expect(upstreamPage.url.startsWith(`${upstreamIssuer()}/interaction/`)).toBe(true);
    const back = await signInUpstream(browser, upstreamPage, 'carol@contoso.example');
    expect((await rp.finish(flow, back.url)).claims()).toMatchObject({ tenant_slug: 'contoso', roles: ['company_admin'] });
  });

  it('other domains keep the password; a tenant that allows both keeps it for typed passwords', async () => {
    await server.admin.ok('POST', `/apps/${down}/accounts`, { email: 'dan@contoso.example', password: PASSWORD });
    const outsider = await server.admin.ok('POST', `/apps/${down}/accounts`, { email: 'eve@elsewhere.example', password: PASSWORD });
    expect((await signIn(rp, new Browser(server.url), 'eve@elsewhere.example', PASSWORD)).tokens.claims()!.sub).toBe(outsider.id);
    await server.admin.ok('PATCH', `/apps/${down}/tenants/contoso`, { allow_password: true });
    try {
      const dan = await signIn(rp, new Browser(server.url), 'dan@contoso.example', PASSWORD);
      expect(dan.tokens.claims()!.amr).toEqual(['pwd']);
    } finally {
      await server.admin.ok('PATCH', `/apps/${down}/tenants/contoso`, { allow_password: false });
    }
  });
});
