/**
 * The console's partners and identity-provider (connection) pages, driven with the fetch browser as signed-in
 * operators: an admin adds, changes, switches off and deletes them through the forms, and the Admin API sees the
 * same records; bad input gets a 4xx on the form's page with the field named and what was typed kept; write-only
 * secrets are never shown back; a viewer reads but every change is a 403 and nothing changes.
 */
import { startServer, type TestServer } from '../support/server.js';
import type { Browser, Page } from '../support/browser.js';
import { addOperator, csrfOf, signIn, startConsole } from './console-support.js';

let server: TestServer;
let admin: { browser: Browser; page: Page };
let viewer: { browser: Browser; page: Page };

const PARTNER_SECRET = 'a-partner-secret-of-at-least-32-bytes!';
const CONNECTION_SECRET = 'upstream-client-secret-value';

function post(browser: Browser, path: string, fields: Record<string, string>) {
  return browser.request(path, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

/** Posts a form as the admin: refused with `status`, the problem on the form's page naming `text`; the page. */
async function refused(form: string, fields: Record<string, string>, status: number, text: string): Promise<string> {
  const res = await post(admin.browser, form, { _csrf: csrfOf(admin.page), ...fields });
  const html = await res.text();
  expect(res.status).toBe(status);
  expect(html).toContain('role="alert"');
  expect(html).toContain(text);
  return html;
}

beforeAll(async () => {
  server = await startServer();
  await startConsole(server);
  await addOperator(server, 'partners-admin@example.com', 'admin-password-1', 'admin');
  await addOperator(server, 'partners-viewer@example.com', 'viewer-password-1', 'viewer');
  admin = await signIn(server, 'partners-admin@example.com', 'admin-password-1');
  viewer = await signIn(server, 'partners-viewer@example.com', 'viewer-password-1');
  await server.admin.ok('POST', '/apps', { slug: 'federated', name: 'Federated Portal' });
});
afterAll(() => server.close());

describe('partners', () => {
  it('adds a partner with a shared secret, never showing the secret back', async () => {
    const list = await admin.browser.follow('/console/apps/federated/partners');
    expect(list.html).toContain('No partners yet.');
    const created = await admin.browser.submit(list, {
      slug: 'crm', name: 'Acme CRM', issuer: 'https://crm.example', secret: PARTNER_SECRET, max_token_age_seconds: '120',
      claim_mapping: '{"email": "mail", "tenant": {"claim": "org"}}',
    }, { action: '/partners' });
    expect(created.status).toBe(200);
    expect(created.url).toMatch(/\/console\/apps\/federated\/partners\/crm$/);
    expect(created.html).toContain('The partner was added.');
    expect(created.html).toContain('/apps/federated/sso/crm');
    expect(created.html).not.toContain(PARTNER_SECRET);
    const stored = await server.admin.ok('GET', '/apps/federated/partners/crm');
    expect(stored).toMatchObject({ name: 'Acme CRM', issuer: 'https://crm.example', has_secret: true, max_token_age_seconds: 120 });
    expect(stored.claim_mapping).toMatchObject({ email: 'mail', tenant: { claim: 'org', match: 'slug', create: false } });
    const again = await admin.browser.follow('/console/apps/federated/partners');
    expect(again.html).toContain('href="/console/apps/federated/partners/crm"');
  });

  it('changes a partner; empty key fields keep its keys', async () => {
    const page = await admin.browser.follow('/console/apps/federated/partners/crm');
    // The edit form is filled with what is stored, the claim mapping as editable JSON.
    expect(page.html).toContain('value="Acme CRM"');
    expect(page.html).toContain('&#34;email&#34;: &#34;mail&#34;');
    const saved = await admin.browser.submit(page, {
      name: 'Acme CRM (EU)', issuer: 'https://crm.example', audience: '', max_token_age_seconds: '60', provisioning: 'off',
      claim_mapping: '{"email": "mail"}', required_claims: '{"env": "prod"}', secret: '', jwks: '', jwks_uri: '',
    }, { action: '/partners/crm' });
    expect(saved.html).toContain('The partner was saved.');
    const stored = await server.admin.ok('GET', '/apps/federated/partners/crm');
    expect(stored).toMatchObject({ name: 'Acme CRM (EU)', max_token_age_seconds: 60, provisioning: 'off', has_secret: true, required_claims: { env: 'prod' } });
    expect(stored.claim_mapping.tenant).toBeNull();
  });

  it.each<[string, Record<string, string>, number, string]>([
    ['/console/apps/federated/partners', { slug: 'nokey', name: 'No key', issuer: 'https://x.example' }, 400, 'exactly one of secret, jwks or jwks_uri'],
    ['/console/apps/federated/partners', { slug: 'twokeys', name: 'Two', issuer: 'https://x.example', secret: PARTNER_SECRET, jwks_uri: 'https://x.example/jwks' }, 400, 'exactly one of secret'],
    ['/console/apps/federated/partners', { slug: 'short', name: 'Short', issuer: 'https://x.example', secret: 'too-short' }, 400, 'at least 32 bytes'],
    ['/console/apps/federated/partners', { slug: 'badjson', name: 'Bad', issuer: 'https://x.example', secret: PARTNER_SECRET, claim_mapping: '{oops' }, 400, 'is not valid JSON'],
    ['/console/apps/federated/partners', { slug: 'Bad Slug', name: 'Bad', issuer: 'https://x.example', secret: PARTNER_SECRET }, 400, 'slug'],
    ['/console/apps/federated/partners', { slug: 'crm', name: 'Again', issuer: 'https://x.example', secret: PARTNER_SECRET }, 409, 'already'],
    ['/console/apps/federated/partners', { slug: 'plainjwks', name: 'Plain', issuer: 'https://x.example', jwks_uri: 'http://jwks.example/keys' }, 400, 'jwks_uri'],
    ['/console/apps/federated/partners/crm', { name: 'Acme', max_token_age_seconds: '9000' }, 400, 'max_token_age_seconds'],
    ['/console/apps/federated/partners/crm', { name: 'Acme', max_token_age_seconds: 'soon' }, 400, 'max_token_age_seconds'],
    ['/console/apps/federated/partners/crm', { name: 'Acme', jwks: '{"keys": [{"kty": "RSA", "n": "x", "e": "AQAB", "d": "private"}]}' }, 400, 'jwks'],
    ['/console/apps/federated/partners/nobody/delete', {}, 404, 'console'],
  ])('%s %j → %i', async (form, fields, status, text) => {
    const html = await refused(form, fields, status, text);
    // What was typed is kept, except write-only secrets.
    if (fields.name && status === 400) expect(html).toContain(`value="${fields.name}"`);
    if (fields.secret) expect(html).not.toContain(fields.secret);
  });

  it('deletes a partner: its sign-in URL stops working', async () => {
    await server.admin.ok('POST', '/apps/federated/partners', { slug: 'old', name: 'Old', issuer: 'https://old.example', secret: PARTNER_SECRET });
    const page = await admin.browser.follow('/console/apps/federated/partners/old');
    const done = await admin.browser.submit(page, {}, { action: '/partners/old/delete' });
    expect(done.url).toMatch(/\/partners$/);
    expect(done.html).toContain('The partner was deleted.');
    expect((await server.admin.call('GET', '/apps/federated/partners/old')).status).toBe(404);
    const audit = await server.admin.ok('GET', '/apps/federated/audit?type=console.change');
    expect(audit.items.map((e: { detail?: { what?: string } }) => e.detail?.what)).toEqual(expect.arrayContaining(['partner.created', 'partner.updated', 'partner.deleted']));
  });
});

describe('identity providers (connections)', () => {
  it('adds a generic OpenID Connect provider and shows the redirect URI to register', async () => {
    const list = await admin.browser.follow('/console/apps/federated/connections');
    expect(list.html).toContain('Add an identity provider');
    const created = await admin.browser.submit(list, {
      slug: 'corp', preset: 'generic', display_name: 'Corp SSO', issuer: 'https://idp.corp.example', client_id: 'portcullis-rp',
      token_endpoint_auth_method: 'client_secret_basic', client_secret: CONNECTION_SECRET, scopes: 'openid email profile', provisioning: 'create',
      enabled: 'on', link_by_verified_email: 'on',
    }, { action: '/connections' });
    expect(created.status).toBe(200);
    expect(created.url).toMatch(/\/connections\/corp$/);
    expect(created.html).toContain('The identity provider was added.');
    expect(created.html).toContain('/apps/federated/connections/corp/callback');
    expect(created.html).not.toContain(CONNECTION_SECRET);
    expect(await server.admin.ok('GET', '/apps/federated/connections/corp')).toMatchObject({
      display_name: 'Corp SSO', issuer: 'https://idp.corp.example', client_id: 'portcullis-rp', client_secret_set: true,
      scopes: ['openid', 'email', 'profile'], link_by_verified_email: true, store_tokens: false, enabled: true,
    });
  });

  it('changes it; an empty secret keeps the credential, an unchecked box is false', async () => {
    const page = await admin.browser.follow('/console/apps/federated/connections/corp');
    expect(page.html).toContain('value="Corp SSO"');
    const saved = await admin.browser.submit(page, {
      display_name: 'Corp single sign-on', issuer: 'https://idp.corp.example', client_id: 'portcullis-rp', token_endpoint_auth_method: 'client_secret_post',
      client_secret: '', private_key_jwk: '', scopes: 'openid email', provisioning: 'off', enabled: 'on', position: '2',
      claim_mapping: '{"email": "upn", "role": {"claim": "groups", "map": {"admins": "admin"}}}',
    }, { action: '/connections/corp' });
    expect(saved.html).toContain('The identity provider was saved.');
    const stored = await server.admin.ok('GET', '/apps/federated/connections/corp');
    expect(stored).toMatchObject({
      display_name: 'Corp single sign-on', token_endpoint_auth_method: 'client_secret_post', client_secret_set: true, scopes: ['openid', 'email'],
      provisioning: 'off', link_by_verified_email: false, position: 2,
    });
    expect(stored.claim_mapping).toMatchObject({ email: 'upn', role: { claim: 'groups', map: { admins: 'admin' } } });
  });

  it('switches its sign-in button off and on from the list', async () => {
    const list = await admin.browser.follow('/console/apps/federated/connections');
    const off = await admin.browser.submit(list, {}, { action: '/connections/corp/enabled' });
    expect(off.html).toContain('The identity provider is disabled.');
    expect((await server.admin.ok('GET', '/apps/federated/connections/corp')).enabled).toBe(false);
    const on = await admin.browser.submit(off, {}, { action: '/connections/corp/enabled' });
    expect(on.html).toContain('The identity provider is enabled.');
    expect((await server.admin.ok('GET', '/apps/federated/connections/corp')).enabled).toBe(true);
  });

  it.each<[string, Record<string, string>, number, string]>([
    ['/console/apps/federated/connections', { slug: 'nosecret', preset: 'generic', issuer: 'https://idp.example', client_id: 'x', token_endpoint_auth_method: 'client_secret_basic', enabled: 'on' }, 400, 'client_secret'],
    ['/console/apps/federated/connections', { slug: 'noissuer', preset: 'generic', client_id: 'x', token_endpoint_auth_method: 'none' }, 400, 'a generic connection needs its issuer'],
    ['/console/apps/federated/connections', { slug: 'plain', preset: 'generic', issuer: 'http://idp.example', client_id: 'x', token_endpoint_auth_method: 'none' }, 400, 'issuer'],
    ['/console/apps/federated/connections', { slug: 'noopenid', preset: 'generic', issuer: 'https://idp.example', client_id: 'x', token_endpoint_auth_method: 'none', scopes: 'email' }, 400, 'must include openid'],
    ['/console/apps/federated/connections', { slug: 'dirs', preset: 'google', client_id: 'x', token_endpoint_auth_method: 'none', allowed_tenant_ids: '0f0e0d0c-0b0a-0908-0706-050403020100' }, 400, 'only for the microsoft preset'],
    ['/console/apps/federated/connections', { slug: 'corp', preset: 'generic', issuer: 'https://idp.example', client_id: 'x', token_endpoint_auth_method: 'none' }, 409, 'already'],
    ['/console/apps/federated/connections/corp', { client_id: 'x', token_endpoint_auth_method: 'private_key_jwt' }, 400, 'private_key_jwk'],
    ['/console/apps/federated/connections/corp', { client_id: 'x', claim_mapping: '[1, 2' }, 400, 'is not valid JSON'],
    ['/console/apps/federated/connections/corp', { client_id: 'x', position: '-3' }, 400, 'position'],
    ['/console/apps/federated/connections/corp/enabled', { enabled: 'maybe' }, 400, 'enabled'],
    ['/console/apps/federated/connections/nobody/delete', {}, 404, 'console'],
  ])('%s %j → %i', async (form, fields, status, text) => {
    await refused(form, fields, status, text);
  });

  it('deletes it, with the identities linked through it', async () => {
    // An identity as a first sign-in through the provider would have linked it (the linking is tested in test/e2e).
    const account = await server.admin.ok('POST', '/apps/federated/accounts', { email: 'linked@example.com' });
    const app = await server.portcullis.services.apps.require('federated');
    await server.portcullis.services.identityLinks.link(app, account.id, { connection: 'corp', issuer: 'https://idp.corp.example', subject: 'u-1' });
    expect(await server.admin.ok('GET', `/apps/federated/accounts/${account.id}/identities`)).toHaveLength(1);
    const page = await admin.browser.follow('/console/apps/federated/connections/corp');
    const done = await admin.browser.submit(page, {}, { action: '/connections/corp/delete' });
    expect(done.html).toContain('The identity provider was deleted.');
    expect((await server.admin.call('GET', '/apps/federated/connections/corp')).status).toBe(404);
    expect(await server.admin.ok('GET', `/apps/federated/accounts/${account.id}/identities`)).toEqual([]);
    expect((await server.admin.ok('GET', `/apps/federated/accounts/${account.id}`)).status).toBe('active');
  });
});

describe('a viewer', () => {
  beforeAll(async () => {
    await server.admin.ok('POST', '/apps/federated/partners', { slug: 'kept', name: 'Kept', issuer: 'https://kept.example', secret: PARTNER_SECRET });
    await server.admin.ok('POST', '/apps/federated/connections', { slug: 'kept', preset: 'google', client_id: 'g', client_secret: CONNECTION_SECRET });
  });

  it('reads the pages without forms to change things', async () => {
    for (const path of ['/console/apps/federated/partners', '/console/apps/federated/partners/kept', '/console/apps/federated/connections', '/console/apps/federated/connections/kept']) {
      const page = await viewer.browser.follow(path);
      expect(page.status).toBe(200);
      expect(page.html).toContain('kept');
      expect(page.html).not.toContain('class="primary"');
      expect(page.html).not.toMatch(/action="[^"]*\/(delete|enabled)"/);
      expect(page.html).not.toContain('name="secret"');
      expect(page.html).not.toContain('name="client_secret"');
    }
  });

  it.each([
    ['/console/apps/federated/partners', { slug: 'viewer', name: 'V', issuer: 'https://v.example', secret: PARTNER_SECRET }],
    ['/console/apps/federated/partners/kept', { name: 'Renamed by a viewer' }],
    ['/console/apps/federated/partners/kept/delete', {}],
    ['/console/apps/federated/connections', { slug: 'viewer', preset: 'google', client_id: 'v', token_endpoint_auth_method: 'none' }],
    ['/console/apps/federated/connections/kept', { display_name: 'Renamed by a viewer', client_id: 'g' }],
    ['/console/apps/federated/connections/kept/enabled', { enabled: 'false' }],
    ['/console/apps/federated/connections/kept/delete', {}],
  ])('%s → 403, nothing changes', async (form, fields) => {
    const res = await post(viewer.browser, form, { _csrf: csrfOf(viewer.page), ...fields });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Your console role only lets you read');
    expect((await server.admin.ok('GET', '/apps/federated/partners/kept')).name).toBe('Kept');
    expect(await server.admin.ok('GET', '/apps/federated/connections/kept')).toMatchObject({ display_name: 'Google', enabled: true });
    expect((await server.admin.ok('GET', '/apps/federated/partners')).map((p: { slug: string }) => p.slug)).not.toContain('viewer');
  });

  it('cannot post without the session\'s CSRF token either', async () => {
    const res = await post(admin.browser, '/console/apps/federated/partners/kept/delete', {});
    expect(res.status).toBe(403);
    expect((await server.admin.call('GET', '/apps/federated/partners/kept')).status).toBe(200);
  });
});
