/**
 * Every console form, driven with the fetch browser as a signed-in operator: bad input gets a clear 4xx and the
 * form's page again with the problem named; a missing or wrong CSRF token is refused with 403; a `viewer` is
 * refused every change with the 403 page, and no change happens.
 */
import { startServer, type TestServer } from '../support/server.js';
import type { Browser, Page } from '../support/browser.js';
import { addOperator, csrfOf, signIn, startConsole } from './console-support.js';

let server: TestServer;
let admin: { browser: Browser; page: Page };
let viewer: { browser: Browser; page: Page };
let clientId: string;
let publicClientId: string;
let accountId: string;

function post(browser: Browser, path: string, fields: Record<string, string>) {
  return browser.request(path, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

beforeAll(async () => {
  server = await startServer();
  await startConsole(server);
  await addOperator(server, 'ops-admin@example.com', 'admin-password-1', 'admin');
  await addOperator(server, 'ops-viewer@example.com', 'viewer-password-1', 'viewer');
  admin = await signIn(server, 'ops-admin@example.com', 'admin-password-1');
  viewer = await signIn(server, 'ops-viewer@example.com', 'viewer-password-1');
  await server.admin.ok('POST', '/apps', { slug: 'forms', name: 'Forms Portal' });
  await server.admin.ok('POST', '/apps/forms/tenants', { slug: 'acme', name: 'Acme' });
  clientId = (await server.admin.ok('POST', '/apps/forms/clients', { name: 'Web', redirect_uris: ['https://rp.example/cb'] })).client_id;
  publicClientId = (await server.admin.ok('POST', '/apps/forms/clients', { name: 'SPA', redirect_uris: ['https://spa.example/cb'], token_endpoint_auth_method: 'none' })).client_id;
  accountId = (await server.admin.ok('POST', '/apps/forms/accounts', { email: 'member@example.com' })).id;
});
afterAll(() => server.close());

/** [form path, bad fields, expected status, text the page must show] */
const BAD_INPUT: Array<[string, Record<string, string>, number, string]> = [
  ['/console/apps', { slug: 'Not A Slug!', name: 'X' }, 400, 'slug'],
  ['/console/apps', { slug: 'forms', name: 'Again' }, 409, 'already exists'],
  ['/console/apps/forms', { name: 'Forms', settings: '{not json' }, 400, 'is not valid JSON'],
  ['/console/apps/forms', { name: 'Forms', settings: '{"no_such_setting": 1}' }, 400, 'settings.no_such_setting'],
  ['/console/apps/forms/clients', { name: 'Bad', redirect_uris: '' }, 400, 'redirect_uris'],
  ['/console/apps/forms/clients', { name: 'Bad', redirect_uris: 'not a uri' }, 400, 'redirect_uris.0'],
  ['/console/apps/forms/clients/CLIENT', { redirect_uris: 'https://ok.example/cb#fragment' }, 400, 'redirect_uris.0'],
  ['/console/apps/forms/clients/PUBLIC/secret', {}, 400, 'Public clients have no secret'],
  ['/console/apps/forms/tenants', { slug: '', name: 'Nameless' }, 400, 'slug'],
  ['/console/apps/forms/tenants', { slug: 'acme', name: 'Acme again' }, 409, 'already'],
  ['/console/apps/forms/tenants/acme/members', { email: 'not-an-email', roles: 'user' }, 400, 'email'],
  ['/console/apps/forms/tenants/acme/members', { email: 'nobody@example.com', roles: 'user' }, 404, 'No account has this email'],
  ['/console/apps/forms/tenants/acme/members', { email: 'member@example.com', roles: 'bad role!' }, 400, 'roles.1'],
  ['/console/apps/forms/tenants/acme/members/remove', {}, 400, 'account_id'],
  ['/console/apps/forms/accounts', { email: 'nope' }, 400, 'email'],
  ['/console/apps/forms/accounts', { email: 'short@example.com', password: 'x' }, 400, 'password'],
  ['/console/apps/forms/accounts/ACCOUNT/status', { status: 'superuser' }, 400, 'status'],
  ['/console/apps/forms/invitations', { email: 'bad' }, 400, 'email'],
  ['/console/apps/forms/invitations', { email: 'new@example.com', roles: 'user' }, 400, 'tenant'],
  ['/console/apps/forms/invitations/resend', {}, 400, 'invitation'],
  ['/console/apps/forms/invitations/revoke', { invitation: 'inv_missing' }, 404, 'console'],
  ['/console/apps/forms/webhooks', { url: 'https://hooks.example/in', events: 'no.such.event' }, 400, 'events.0'],
  ['/console/apps/forms/webhooks', { url: 'not a url', events: '*' }, 400, 'url'],
  ['/console/apps/forms/webhooks/delete', { webhook: 'wh_missing' }, 404, 'console'],
  ['/console/operators', { email: 'new-op@example.com', role: 'superuser' }, 400, 'role'],
];

const path = (p: string) => p.replace('CLIENT', clientId).replace('PUBLIC', publicClientId).replace('ACCOUNT', accountId);

describe('console forms refuse bad input with a clear 4xx on the form page', () => {
  it.each(BAD_INPUT)('%s %j → %i', async (form, fields, status, text) => {
    // The owner may use every form, the operators one included.
    const res = await post(admin.browser, path(form), { _csrf: csrfOf(admin.page), ...fields });
    const html = await res.text();
    if (form === '/console/operators') {
      // An admin may not manage operators at all: the role is checked before the input.
      expect(res.status).toBe(403);
      return;
    }
    expect(res.status).toBe(status);
    expect(html).toContain('role="alert"');
    expect(html).toContain(text);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('an owner gets the operators form checked too', async () => {
    const owner = await (async () => {
      await addOperator(server, 'ops-owner@example.com', 'owner-password-1', 'owner');
      return signIn(server, 'ops-owner@example.com', 'owner-password-1');
    })();
    const res = await post(owner.browser, '/console/operators', { _csrf: csrfOf(owner.page), email: 'new-op@example.com', role: 'superuser' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('role');
    const self = await post(owner.browser, '/console/operators/remove', { _csrf: csrfOf(owner.page), account_id: 'x'.repeat(101) });
    expect(self.status).toBe(400);
  });

  it('keeps what was typed when a form is refused', async () => {
    const res = await post(admin.browser, '/console/apps/forms/tenants', { _csrf: csrfOf(admin.page), slug: 'Bad Slug', name: 'Typed name' });
    expect(await res.text()).toContain('value="Typed name"');
  });
});

describe('CSRF', () => {
  it.each(BAD_INPUT.map(([form]) => form).filter((f, i, all) => all.indexOf(f) === i))('%s refuses a post without the session\'s token', async (form) => {
    for (const token of [undefined, 'wrong-token']) {
      const res = await post(admin.browser, path(form), token ? { _csrf: token, slug: 'csrf-app', name: 'CSRF' } : { slug: 'csrf-app', name: 'CSRF' });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('This form has expired or was not sent from the console');
    }
    expect((await server.admin.call('GET', '/apps/csrf-app')).status).toBe(404);
  });

  it('refuses a token of another operator\'s session', async () => {
    const res = await post(admin.browser, '/console/apps', { _csrf: csrfOf(viewer.page), slug: 'csrf-other', name: 'Other' });
    expect(res.status).toBe(403);
  });
});

describe('field messages in the operator\'s language', () => {
  it('names each refused field in French once the operator picked French; the Admin API stays English', async () => {
    const french = await signIn(server, 'ops-admin@example.com', 'admin-password-1');
    french.browser.addCookie('portcullis_lang', 'fr');
    const home = await french.browser.follow('/console');
    const refused = await post(french.browser, '/console/apps', { _csrf: csrfOf(home), slug: 'Pas Un Slug', name: 'x'.repeat(201) });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain('doit compter 1 à 63 lettres minuscules, chiffres ou tirets');
    expect(html).toContain('Trop grand');
    expect(html).not.toContain('must be 1-63');
    const colours = await post(french.browser, '/console/apps/forms', { _csrf: csrfOf(home), name: 'Forms Portal', settings: '{"branding": {"primary_color": "#ffff00"}}' });
    expect(colours.status).toBe(400);
    expect(await colours.text()).toMatch(/textes blancs des boutons et liens sur primary_color : le contraste 1\.\d+:1/);
    const api = await server.admin.call('POST', '/apps', { slug: 'Pas Un Slug', name: 'X' });
    expect(api.body.fields).toEqual([{ path: 'slug', message: 'must be 1-63 lower-case letters, digits or dashes' }]);
  });
});

describe('webhooks', () => {
  it('adds an endpoint and shows its signing secret once', async () => {
    const added = await admin.browser.submit(await admin.browser.follow('/console/apps/forms/webhooks'), { url: 'http://127.0.0.1:9/in', events: 'account.created tenant.created' }, { action: '/webhooks' });
    expect(added.status).toBe(200);
    const secret = /id="shown-secret"[^>]*value="(whsec_[^"]+)"/.exec(added.html)?.[1];
    expect(secret).toBeDefined();
    const again = await admin.browser.follow('/console/apps/forms/webhooks');
    expect(again.html).toContain('http://127.0.0.1:9/in');
    expect(again.html).not.toContain(secret!);
    expect((await server.admin.ok('GET', '/apps/forms/webhooks'))[0].events).toEqual(['account.created', 'tenant.created']);
  });
});

describe('invitations and sign-ins', () => {
  it('sends an invitation again with a new link, then withdraws it', async () => {
    const page = await admin.browser.submit(await admin.browser.follow('/console/apps/forms/invitations'), { email: 'guest@example.com', tenant: 'acme', roles: 'user' }, { action: '/invitations' });
    expect(page.html).toContain('The invitation was sent.');
    const [invitation] = await server.admin.ok('GET', '/apps/forms/invitations');
    const first = (await server.admin.ok('GET', '/apps/forms/outbox')).filter((m: { to: string }) => m.to === 'guest@example.com');
    const resent = await admin.browser.submit(page, {}, { action: '/invitations/resend' });
    expect(resent.html).toContain('The invitation was sent again with a new link.');
    const after = (await server.admin.ok('GET', '/apps/forms/outbox')).filter((m: { to: string }) => m.to === 'guest@example.com');
    expect(after).toHaveLength(first.length + 1);
    const revoked = await admin.browser.submit(resent, {}, { action: '/invitations/revoke' });
    expect(revoked.html).toContain('The invitation was withdrawn.');
    expect((await server.admin.ok('GET', `/apps/forms/invitations/${invitation.id}`)).status).toBe('revoked');
  });

  it('lists an account\'s browser sessions (the viewer signed in to the console app through its provider)', async () => {
    const [viewerAccount] = await server.admin.ok('GET', '/apps/console/accounts?email=ops-viewer@example.com');
    const page = await admin.browser.follow(`/console/apps/console/accounts/${viewerAccount.id}`);
    expect(page.status).toBe(200);
    const table = /<table class="list" id="account-sessions">([\s\S]*?)<\/table>/.exec(page.html)?.[1] ?? '';
    expect(table.match(/<tr>/g)?.length).toBeGreaterThanOrEqual(2); // the header and at least one session
    expect(table).toContain('127.0.0.1');
  });

  it('ends every sign-in of an account', async () => {
    const page = await admin.browser.follow(`/console/apps/forms/accounts/${accountId}`);
    const done = await admin.browser.submit(page, {}, { action: '/sign-ins/end' });
    expect(done.html).toContain('Every session of this account was ended.');
    const events = (await server.admin.ok('GET', `/apps/forms/audit?type=session.revoked`)).items ?? [];
    expect(events.some((e: { account_id?: string; actor?: string }) => e.account_id === accountId && e.actor?.startsWith('console:acc_'))).toBe(true);
  });
});

describe('the console app itself', () => {
  it('an admin cannot change it (its operators tenant holds the console roles)', async () => {
    const me = (await server.admin.ok('GET', '/apps/console/accounts?email=ops-admin@example.com'))[0];
    const res = await post(admin.browser, '/console/apps/console/tenants/operators/members', { _csrf: csrfOf(admin.page), email: 'ops-admin@example.com', roles: 'owner' });
    expect(res.status).toBe(403);
    const settings = await post(admin.browser, '/console/apps/console', { _csrf: csrfOf(admin.page), name: 'Taken over' });
    expect(settings.status).toBe(403);
    const members = await server.admin.ok('GET', '/apps/console/tenants/operators/members');
    expect(members.find((m: { account_id: string }) => m.account_id === me.id).roles).toEqual(['admin']);
  });
});

describe('a viewer reads but changes nothing', () => {
  it('sees the pages, without forms to change things', async () => {
    const page = await viewer.browser.follow('/console/apps/forms/tenants');
    expect(page.status).toBe(200);
    expect(page.html).toContain('acme');
    expect(page.html).not.toContain('action="/console/apps/forms/tenants"');
  });

  it.each([
    ['/console/apps', { slug: 'viewer-app', name: 'Viewer' }],
    ['/console/apps/forms', { name: 'Renamed by a viewer' }],
    ['/console/apps/forms/keys/rotate', {}],
    ['/console/apps/forms/clients', { name: 'V', redirect_uris: 'https://v.example/cb' }],
    ['/console/apps/forms/clients/CLIENT/secret', {}],
    ['/console/apps/forms/tenants', { slug: 'viewer-tenant', name: 'V' }],
    ['/console/apps/forms/tenants/acme/members', { email: 'member@example.com', roles: 'admin' }],
    ['/console/apps/forms/accounts', { email: 'viewer-made@example.com' }],
    ['/console/apps/forms/accounts/ACCOUNT/status', { status: 'deactivated' }],
    ['/console/apps/forms/accounts/ACCOUNT/factors/reset', {}],
    ['/console/apps/forms/invitations', { email: 'viewer-invite@example.com' }],
    ['/console/apps/forms/webhooks', { url: 'https://hooks.example/in', events: '*' }],
    ['/console/apps/forms/webhooks/delete', { webhook: 'wh_x' }],
    ['/console/apps/forms/accounts/ACCOUNT/sign-ins/end', {}],
    ['/console/apps/forms/invitations/resend', { invitation: 'inv_x' }],
    ['/console/apps/forms/invitations/revoke', { invitation: 'inv_x' }],
    ['/console/operators', { email: 'viewer-op@example.com', role: 'owner' }],
  ])('%s → 403 page', async (form, fields) => {
    const res = await post(viewer.browser, path(form), { _csrf: csrfOf(viewer.page), ...fields });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Your console role only lets you read');
  });

  it('changed nothing', async () => {
    expect((await server.admin.call('GET', '/apps/viewer-app')).status).toBe(404);
    expect((await server.admin.ok('GET', '/apps/forms')).name).toBe('Forms Portal');
    expect((await server.admin.ok('GET', `/apps/forms/accounts/${accountId}`)).status).toBe('active');
    expect((await server.admin.ok('GET', '/apps/forms/tenants/acme/members')).map((m: { account_id: string }) => m.account_id)).not.toContain(accountId);
    expect((await server.admin.ok('GET', '/apps/forms/invitations')).map((i: { email: string }) => i.email)).not.toContain('viewer-invite@example.com');
    expect((await server.admin.ok('GET', '/apps/forms/invitations')).every((i: { status: string }) => i.status === 'revoked')).toBe(true);
  });
});
