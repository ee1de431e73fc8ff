/**
 * Client metadata through the Admin API: the ID token algorithm (ES256 by default,
 * RS256 on request) and validation with the provider's own rules, so a client the provider would refuse is never
 * stored.
 */
import { decodeProtectedHeader } from 'jose';
import { Browser } from '../support/browser.js';
import { REDIRECT_URI, rpFor, setUpRp, signIn } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
  await server.admin.ok('POST', '/apps', { slug: 'meta', name: 'Metadata' });
  await server.admin.ok('POST', '/apps/meta/accounts', { email: 'm@example.com', password: 'metadata-password' });
});
afterAll(() => server.close());

const client = (extra: Record<string, unknown> = {}) => ({ name: 'Portal', redirect_uris: [REDIRECT_URI], first_party: true, ...extra });

async function idTokenAlg(clientId: string, secret: string): Promise<string> {
  const rp = await rpFor(server, 'meta', clientId, secret);
  const { tokens } = await signIn(rp, new Browser(server.url), 'm@example.com', 'metadata-password');
  return decodeProtectedHeader(tokens.id_token!).alg!;
}

describe('ID token signing algorithm', () => {
  it('signs ID tokens of a client created through the Admin API with ES256 by default', async () => {
    const created = await server.admin.ok('POST', '/apps/meta/clients', client());
    expect(created.id_token_signed_response_alg).toBe('ES256');
    expect(await idTokenAlg(created.client_id, created.client_secret)).toBe('ES256');
  });

  it('uses RS256 when the client asks for it, and follows a PATCH back to ES256', async () => {
    const created = await server.admin.ok('POST', '/apps/meta/clients', client({ id_token_signed_response_alg: 'RS256' }));
    expect(await idTokenAlg(created.client_id, created.client_secret)).toBe('RS256');
    const patched = await server.admin.ok('PATCH', `/apps/meta/clients/${created.client_id}`, { id_token_signed_response_alg: 'ES256' });
    expect(patched.id_token_signed_response_alg).toBe('ES256');
    expect(await idTokenAlg(created.client_id, created.client_secret)).toBe('ES256');
  });

  it('refuses an algorithm the app has no key for', async () => {
    const res = await server.admin.call('POST', '/apps/meta/clients', client({ id_token_signed_response_alg: 'HS256' }));
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([expect.objectContaining({ path: 'id_token_signed_response_alg' })]);
  });

  it('publishes both algorithms in discovery', async () => {
    const rp = await setUpRp(server, 'meta');
    expect(rp.config.serverMetadata().id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']);
  });
});

describe('client metadata validated with the provider\'s rules', () => {
  it('refuses an http initiate_login_uri at creation with 400 naming the field', async () => {
    const before = (await server.admin.ok('GET', '/apps/meta/clients')).length;
    const res = await server.admin.call('POST', '/apps/meta/clients', client({ initiate_login_uri: 'http://portal.example.test/login' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_client_metadata');
    expect(res.body.fields).toEqual([expect.objectContaining({ path: 'initiate_login_uri' })]);
    expect((await server.admin.ok('GET', '/apps/meta/clients')).length).toBe(before);
  });

  it('keeps an https logo_uri for the launcher and refuses any other with 400 naming the field', async () => {
    const created = await server.admin.ok('POST', '/apps/meta/clients', client({ logo_uri: 'https://cdn.example.test/portal.png' }));
    expect(created.logo_uri).toBe('https://cdn.example.test/portal.png');
    for (const logo_uri of ['http://cdn.example.test/portal.png', 'javascript:alert(1)', 'data:image/png;base64,AAAA', 42]) {
      const res = await server.admin.call('PATCH', `/apps/meta/clients/${created.client_id}`, { logo_uri });
      expect(res.status).toBe(400);
      expect(res.body.fields).toEqual([expect.objectContaining({ path: 'logo_uri' })]);
    }
    expect((await server.admin.ok('GET', `/apps/meta/clients/${created.client_id}`)).logo_uri).toBe('https://cdn.example.test/portal.png');
  });

  it('refuses it in a PATCH and leaves the client as it was, still able to sign in', async () => {
    const created = await server.admin.ok('POST', '/apps/meta/clients', client({ initiate_login_uri: 'https://portal.example.test/login' }));
    const res = await server.admin.call('PATCH', `/apps/meta/clients/${created.client_id}`, { initiate_login_uri: 'http://portal.example.test/login' });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([expect.objectContaining({ path: 'initiate_login_uri' })]);
    const stored = await server.admin.ok('GET', `/apps/meta/clients/${created.client_id}`);
    expect(stored.initiate_login_uri).toBe('https://portal.example.test/login');
    expect(await idTokenAlg(created.client_id, created.client_secret)).toBe('ES256');
  });
});
