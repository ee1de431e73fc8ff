/**
 * App keys: an app is created with its ES256 key only (cheap), the RS256 key is added before the app's JWKS is
 * first published, and the published JWKS stays the same until a rotation. RS256-signed ID tokens verify against it.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { Browser } from '../support/browser.js';
import { setUpRp, signIn } from '../support/rp.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => { server = await startServer(); });
afterAll(() => server.close());

const jwks = async (slug: string): Promise<JSONWebKeySet> => (await (await fetch(`${server.url}/apps/${slug}/jwks`)).json()) as JSONWebKeySet;
const appId = async (slug: string): Promise<string> => (await server.stores.apps.findBySlug(slug))!.id;

it('creates an app with an EC key only and publishes EC + RSA from the first JWKS on, unchanged by rebuilds', async () => {
  await server.admin.ok('POST', '/apps', { slug: 'keys', name: 'Keys' });
  const stored = await server.stores.appKeys.get(await appId('keys'));
  expect(stored!.jwks.map((k) => k.kty)).toEqual(['EC']);

  const first = await jwks('keys');
  expect(first.keys.map((k) => `${k.kty}/${k.alg}`).sort()).toEqual(['EC/ES256', 'RSA/RS256']);
  expect(first.keys.every((k) => k.d === undefined)).toBe(true);
  expect((await server.stores.appKeys.get(await appId('keys')))!.jwks).toHaveLength(2);

  // A change rebuilds the app's provider: the published keys stay the same.
  await server.admin.ok('PATCH', '/apps/keys', { name: 'Keys renamed' });
  expect(await jwks('keys')).toEqual(first);
  expect(await jwks('keys')).toEqual(first);
});

it('signs ID tokens with RS256 for clients that use it, verifiable with the published JWKS', async () => {
  const rp = await setUpRp(server, 'keys-rs');
  await server.admin.ok('POST', '/apps/keys-rs/accounts', { email: 'rs@example.com', password: 'rs-password-1' });
  const client = await server.stores.clients.find(await appId('keys-rs'), rp.clientId);
  const { tokens } = await signIn(rp, new Browser(server.url), 'rs@example.com', 'rs-password-1');
  const idToken = tokens.id_token!;
  const header = decodeProtectedHeader(idToken);
  const { payload } = await jwtVerify(idToken, createLocalJWKSet(await jwks('keys-rs')), { issuer: rp.issuer, audience: client!.clientId });
  expect(payload.sub).toBeDefined();
  // The client's ID token algorithm (RS256 unless the provider's default changes): the key behind it is published.
  expect((await jwks('keys-rs')).keys.some((k) => k.kid === header.kid && k.alg === header.alg)).toBe(true);
});

it('rotates to a fresh EC and RSA key and keeps the previous ones published', async () => {
  const before = await jwks('keys');
  await server.admin.ok('POST', '/apps/keys/keys/rotate');
  const after = await jwks('keys');
  expect(after.keys).toHaveLength(4);
  expect(after.keys.slice(2)).toEqual(before.keys);
  expect(after.keys.slice(0, 2).map((k) => k.kty)).toEqual(['EC', 'RSA']);
});

it('creates apps without waiting for RSA key generation', async () => {
  const started = Date.now();
  await Promise.all(Array.from({ length: 20 }, (_, i) => server.admin.ok('POST', '/apps', { slug: `fast-${i}`, name: `Fast ${i}` })));
  // 20 RSA-2048 keys take seconds on two cores; 20 EC keys take milliseconds.
  expect(Date.now() - started).toBeLessThan(1500);
});
