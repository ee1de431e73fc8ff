import { Browser, decode, type Page } from '../support/browser.js';
import { open, REDIRECT_URI, rpFor, setUpRp, signIn, type Rp } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

const START = 'https://rp.example.test/start';
const WELCOME = 'https://portal.example.test/welcome';

let server: TestServer;
let rp: Rp;
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer();
  rp = await setUpRp(server, 'guild', { initiate_login_uri: START });
  ids.acme = (await server.admin.ok('POST', '/apps/guild/tenants', { slug: 'acme', name: 'Acme Ltd' })).id;
  ids.globex = (await server.admin.ok('POST', '/apps/guild/tenants', { slug: 'globex', name: 'Globex Corp' })).id;
});
afterAll(() => server.close());

async function invite(slug: string, body: Record<string, unknown>) {
  return server.admin.ok('POST', `/apps/${slug}/invitations`, body);
}

/** The link of the newest invitation emailed to `to`. */
async function lastLink(slug: string, to: string): Promise<string> {
  const outbox = await server.admin.ok('GET', `/apps/${slug}/outbox`);
  const message = outbox.filter((m: any) => m.to === to).at(-1);
  return /(https?:\/\/\S+\/invitation\/[A-Za-z0-9_-]+)/.exec(message.text)![1];
}

async function appId(slug: string): Promise<string> {
  return (await server.stores.apps.findBySlug(slug))!.id;
}

const accept = (browser: Browser, page: Page, fields: Record<string, string> = {}, stopAt = 'https://') =>
  browser.submit(page, fields, { action: '/invitation/', stopAt });

describe('Admin API', () => {
  it('creates an invited account and emails a link built from PUBLIC_URL; the answer never holds the token', async () => {
    const created = await server.admin.call('POST', '/apps/guild/invitations', { email: 'New.Person@Example.com', name: 'New Person', tenant: 'acme', roles: ['user'], client_id: rp.clientId });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'new.person@example.com', tenant: ids.acme, roles: ['user'], client_id: rp.clientId, status: 'pending' });
    expect(Object.keys(created.body).sort()).toEqual(['account_id', 'client_id', 'created_at', 'email', 'expires_at', 'id', 'roles', 'status', 'tenant']);
    const days = (Date.parse(created.body.expires_at) - Date.parse(created.body.created_at)) / 86_400_000;
    expect(days).toBeCloseTo(7, 3);

    const link = await lastLink('guild', 'new.person@example.com');
    expect(link.startsWith(`${server.url}/apps/guild/invitation/`)).toBe(true);
    expect(JSON.stringify(created.body)).not.toContain(link.split('/').at(-1));
    const account = await server.admin.ok('GET', `/apps/guild/accounts/${created.body.account_id}`);
    expect(account).toMatchObject({ status: 'invited', email_verified: false, has_password: false, name: 'New Person' });
    expect(await server.admin.ok('GET', `/apps/guild/accounts/${created.body.account_id}/tenants`)).toMatchObject([{ slug: 'acme', roles: ['user'] }]);

    const list = await server.admin.ok('GET', '/apps/guild/invitations');
    expect(list.map((i: any) => i.id)).toContain(created.body.id);
    expect(JSON.stringify(list)).not.toMatch(/token/i);
  });

  it('answers 404 for an unknown tenant or client, 400 for bad input, 409 for a second pending invitation', async () => {
    expect((await server.admin.call('POST', '/apps/guild/invitations', { email: 'x@example.com', tenant: 'nope' })).status).toBe(404);
    expect((await server.admin.call('POST', '/apps/guild/invitations', { email: 'x@example.com', client_id: 'nope' })).status).toBe(404);
    expect((await server.admin.call('POST', '/apps/nope/invitations', { email: 'x@example.com' })).status).toBe(404);
    expect((await server.admin.call('POST', '/apps/guild/invitations', { email: 'not-an-email' })).status).toBe(400);
    expect((await server.admin.call('POST', '/apps/guild/invitations', { email: 'x@example.com', extra: 1 })).status).toBe(400);
    expect((await server.admin.call('POST', '/apps/guild/invitations', { email: 'x@example.com', roles: ['user'] })).status).toBe(400);
    expect((await server.admin.call('DELETE', '/apps/guild/invitations/inv_nope')).status).toBe(404);
    expect((await server.admin.call('POST', '/apps/guild/invitations/inv_nope/resend')).status).toBe(404);
    await invite('guild', { email: 'twice@example.com', tenant: 'acme' });
    const again = await server.admin.call('POST', '/apps/guild/invitations', { email: 'twice@example.com', tenant: 'acme' });
    expect(again.status).toBe(409);
  });

  it('revokes: the link stops working', async () => {
    const invitation = await invite('guild', { email: 'revoked@example.com' });
    const link = await lastLink('guild', 'revoked@example.com');
    expect((await new Browser(server.url).follow(link)).status).toBe(200);
    expect((await server.admin.call('DELETE', `/apps/guild/invitations/${invitation.id}`)).status).toBe(204);
    const page = await new Browser(server.url).follow(link);
    expect(page.status).toBe(400);
    expect(page.html).toContain('not valid any more');
    expect((await server.admin.ok('GET', `/apps/guild/invitations/${invitation.id}`)).status).toBe('revoked');
    expect((await server.admin.call('POST', `/apps/guild/invitations/${invitation.id}/resend`)).status).toBe(409);
  });

  it('resends with a new token: the old link is dead, the new one works', async () => {
    const invitation = await invite('guild', { email: 'resent@example.com' });
    const first = await lastLink('guild', 'resent@example.com');
    const resent = await server.admin.call('POST', `/apps/guild/invitations/${invitation.id}/resend`);
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ id: invitation.id, status: 'pending' });
    const second = await lastLink('guild', 'resent@example.com');
    expect(second).not.toBe(first);
    expect((await new Browser(server.url).follow(first)).status).toBe(400);
    expect((await new Browser(server.url).follow(second)).status).toBe(200);
  });

  it('says an expired invitation has expired', async () => {
    const invitation = await invite('guild', { email: 'late@example.com' });
    const link = await lastLink('guild', 'late@example.com');
    await server.stores.invitations.update(await appId('guild'), invitation.id, { expiresAt: new Date(Date.now() - 1000) });
    const page = await new Browser(server.url).follow(link);
    expect(page.status).toBe(400);
    expect(page.html).toContain('This invitation has expired');
    expect((await server.admin.ok('GET', `/apps/guild/invitations/${invitation.id}`)).status).toBe('expired');
  });

  it('refuses a malformed or unknown token with the same friendly page', async () => {
    for (const token of ['short', 'A'.repeat(43)]) {
      const page = await new Browser(server.url).follow(`/apps/guild/invitation/${token}`);
      expect(page.status).toBe(400);
      expect(page.html).toContain('not valid any more');
    }
  });
});

describe('accepting an invitation', () => {
  it('sets the password, activates the account and signs in at the client\'s initiate_login_uri with the invited tenant', async () => {
    const invitation = await invite('guild', { email: 'joiner@example.com', tenant: 'acme', roles: ['company_admin', 'user'], client_id: rp.clientId });
    const browser = new Browser(server.url);
    let page = await browser.follow(await lastLink('guild', 'joiner@example.com'));
    expect(page.html).toContain('name="new_password"');
    expect(page.html).toContain('Acme Ltd');
    expect(page.headers.get('content-security-policy')).toContain('form-action \'self\' https://rp.example.test');

    page = await accept(browser, page, { new_password: 'correct horse battery', new_password_confirm: 'different words' });
    expect(page.status).toBe(200);
    expect(decode(page.html)).toContain('The two passwords do not match.');
    page = await accept(browser, page, { new_password: 'short', new_password_confirm: 'short' });
    expect(page.html).toContain('at least 8 characters');
    page = await accept(browser, page, { new_password: 'password1', new_password_confirm: 'password1' });
    expect(page.html).toContain('too common');
    expect(await server.admin.ok('GET', `/apps/guild/accounts/${invitation.account_id}`)).toMatchObject({ status: 'invited' });

    page = await accept(browser, page, { new_password: 'correct horse battery', new_password_confirm: 'correct horse battery' }, START);
    // OIDC Core §4: the RP's initiate_login_uri receives iss and login_hint.
    const landing = new URL(page.url);
    expect(`${landing.origin}${landing.pathname}`).toBe(START);
    expect(landing.searchParams.get('iss')).toBe(rp.issuer);
    expect(landing.searchParams.get('login_hint')).toBe('joiner@example.com');
    expect(await server.admin.ok('GET', `/apps/guild/accounts/${invitation.account_id}`)).toMatchObject({ status: 'active', email_verified: true, has_password: true });
    expect((await server.admin.ok('GET', `/apps/guild/invitations/${invitation.id}`)).status).toBe('accepted');

    // Acting as the RP: start an authorization; the browser completes it without a password form.
    const flow = await rp.begin({ login_hint: 'joiner@example.com' });
    const back = await open(browser, flow);
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    const claims = (await rp.finish(flow, back.url)).claims()!;
    expect(claims).toMatchObject({ sub: invitation.account_id, email: 'joiner@example.com', email_verified: true, tenant_slug: 'acme', roles: ['company_admin', 'user'] });
    const audit = (await server.admin.ok('GET', '/apps/guild/audit')).items;
    expect(audit.find((e: any) => e.type === 'sign_in.succeeded' && e.account_id === invitation.account_id)?.detail).toMatchObject({ amr: 'email', client_id: rp.clientId });
    expect(audit.some((e: any) => e.type === 'invitation.accepted' && e.account_id === invitation.account_id)).toBe(true);

    // Single use: the link is dead, the hand-off is used up, the new password works.
    const again = await new Browser(server.url).follow(await lastLink('guild', 'joiner@example.com'));
    expect(again.status).toBe(400);
    expect(again.html).toContain('already been accepted');
    const other = await open(new Browser(server.url), await rp.begin());
    expect(other.html).toContain('name="password"');
    const { tokens } = await signIn(rp, new Browser(server.url), 'joiner@example.com', 'correct horse battery');
    expect(tokens.claims()!.sub).toBe(invitation.account_id);
  });

  it('lets only one of two concurrent acceptances win', async () => {
    await invite('guild', { email: 'racer@example.com' });
    const browser = new Browser(server.url);
    const page = await browser.follow(await lastLink('guild', 'racer@example.com'));
    const csrf = decode(/name="_csrf" value="([^"]*)"/.exec(page.html)![1]);
    const body = () => new URLSearchParams({ _csrf: csrf, new_password: 'racing password', new_password_confirm: 'racing password' });
    const post = () => browser.request(page.url, { method: 'POST', body: body(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const answers = await Promise.all([post(), post(), post()]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 400, 400]);
  });

  it('refuses the form without the CSRF token bound to the link and this browser (no login CSRF)', async () => {
    await invite('guild', { email: 'forged@example.com' });
    const link = await lastLink('guild', 'forged@example.com');
    const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams({ new_password: 'forged password', new_password_confirm: 'forged password', ...fields }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect((await new Browser(server.url).request(link, form({}))).status).toBe(403);
    // The token shown to one browser does not work from another (someone holding the link cannot make a victim's
    // browser accept it and be signed in to their account).
    const holder = await new Browser(server.url).follow(link);
    const csrf = decode(/name="_csrf" value="([^"]*)"/.exec(holder.html)![1]);
    expect((await new Browser(server.url).request(link, form({ _csrf: csrf }))).status).toBe(403);
  });

  it('invites an existing account into another tenant: confirm only, and the invited tenant is preselected', async () => {
    const account = await server.admin.ok('POST', '/apps/guild/accounts', { email: 'member@example.com', password: 'member password' });
    await server.admin.ok('PUT', `/apps/guild/tenants/acme/members/${account.id}`, { roles: ['user'] });
    const invitation = await invite('guild', { email: 'member@example.com', tenant: 'globex', roles: ['viewer'], client_id: rp.clientId });
    expect(invitation.account_id).toBe(account.id);
    const tenants = await server.admin.ok('GET', `/apps/guild/accounts/${account.id}/tenants`);
    expect(tenants.map((t: any) => [t.slug, t.roles])).toEqual([['acme', ['user']], ['globex', ['viewer']]]);

    const browser = new Browser(server.url);
    const page = await browser.follow(await lastLink('guild', 'member@example.com'));
    expect(page.html).not.toContain('name="new_password"');
    const landed = await accept(browser, page, {}, START);
    expect(landed.url.startsWith(START)).toBe(true);
    const flow = await rp.begin();
    const back = await open(browser, flow);
    expect((await rp.finish(flow, back.url)).claims()).toMatchObject({ sub: account.id, tenant_slug: 'globex', roles: ['viewer'] });
    // The password is unchanged.
    expect((await signIn(rp, new Browser(server.url), 'member@example.com', 'member password', { pick: ['Acme Ltd'] })).tokens.claims()!.sub).toBe(account.id);
  });

  it('signs in the invited person even when the browser was signed in as someone else', async () => {
    await server.admin.ok('POST', '/apps/guild/accounts', { email: 'previous@example.com', password: 'previous password' });
    const browser = new Browser(server.url);
    await signIn(rp, browser, 'previous@example.com', 'previous password');
    const invitation = await invite('guild', { email: 'successor@example.com', client_id: rp.clientId });
    let page = await browser.follow(await lastLink('guild', 'successor@example.com'));
    page = await accept(browser, page, { new_password: 'successor password', new_password_confirm: 'successor password' }, START);
    // The other account's session ended on acceptance: the relying party gets the invited person.
    const flow = await rp.begin();
    page = await open(browser, flow);
    expect(page.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.finish(flow, page.url)).claims()!.sub).toBe(invitation.account_id);
  });
});

describe('apps without passwords and without a client', () => {
  it('confirms only, and lands on the app\'s invitation_landing_uri; the RP\'s sign-in then needs no code', async () => {
    await server.admin.ok('POST', '/apps', { slug: 'codes', name: 'Codes only', settings: { login_methods: ['email_code'], invitation_landing_uri: WELCOME } });
    const codesRp = await setUpRp(server, 'codes');
    const invitation = await invite('codes', { email: 'coder@example.com' });
    const browser = new Browser(server.url);
    const page = await browser.follow(await lastLink('codes', 'coder@example.com'));
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('name="new_password"');
    expect(page.html).toContain('Accept the invitation');
    const landed = await accept(browser, page, {}, WELCOME);
    expect(new URL(landed.url).searchParams.get('iss')).toBe(codesRp.issuer);
    expect(await server.admin.ok('GET', `/apps/codes/accounts/${invitation.account_id}`)).toMatchObject({ status: 'active', email_verified: true, has_password: false });

    const flow = await codesRp.begin();
    const back = await open(browser, flow);
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await codesRp.finish(flow, back.url)).claims()!.sub).toBe(invitation.account_id);
  });

  it('shows a plain page when there is nowhere to land, and the next sign-in in that browser needs no password', async () => {
    await server.admin.ok('POST', '/apps', { slug: 'plain', name: 'Plain' });
    const created = await server.admin.ok('POST', '/apps/plain/clients', { name: 'Portal', redirect_uris: [REDIRECT_URI], first_party: true });
    const plainRp = await rpFor(server, 'plain', created.client_id, created.client_secret);
    const invitation = await invite('plain', { email: 'plain@example.com' });
    const browser = new Browser(server.url);
    let page = await browser.follow(await lastLink('plain', 'plain@example.com'));
    page = await accept(browser, page, { new_password: 'plain password', new_password_confirm: 'plain password' });
    expect(page.url).toBe(`${server.url}/apps/plain/signed-in`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('You are all set');
    const flow = await plainRp.begin();
    const back = await open(browser, flow);
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await plainRp.finish(flow, back.url)).claims()!.sub).toBe(invitation.account_id);
  });
});
