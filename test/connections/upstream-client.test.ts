/**
 * Microsoft Entra ID's multi-tenant issuer template, `https://login.microsoftonline.com/{tenantid}/v2.0`: an ID token
 * is accepted only when its `iss` is the template filled with its own `tid`. The relying-party side runs for real
 * (openid-client discovery, code exchange, ID token validation); the Entra host is answered in-process, with
 * tokens signed here with jose. The same in-process Entra checks private_key_jwt client assertions (RFC 7523).
 */
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { ConnectionService } from '../../src/connections/connection-service.js';
import { createConnectionSchema } from '../../src/connections/connection-schemas.js';
import { entraIssuerProblem } from '../../src/connections/entra-issuer.js';
import { UpstreamClients, UpstreamProblem } from '../../src/connections/upstream-client.js';
import { MemoryConnectionRepository } from '../../src/storage/memory/connection-repositories.js';
import type { AppRecord, ConnectionRecord } from '../../src/storage/ports.js';

const ENTRA = 'https://login.microsoftonline.com';
const TEMPLATE = `${ENTRA}/{tenantid}/v2.0`;
const CONTOSO = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
const FABRIKAM = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const CLIENT_ID = 'portal-registration';
const REDIRECT = 'https://portal.example/apps/clients/connections/entra/callback';

const app = { id: 'app-1', slug: 'clients' } as AppRecord;
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signingKey: Key;
let kid: string;
let publicJwk: Record<string, unknown>;
/** The ID token the token endpoint answers next. */
let nextIdToken: string;
/** With private_key_jwt: the public key the token endpoint checks the client assertion with (RFC 7523 §3). */
let clientPublicKey: Awaited<ReturnType<typeof generateKeyPair>>['publicKey'] | undefined;

/** Entra's discovery, keys and token endpoint, as fetch answers them. */
const entraFetch = (async (input: string | URL | Request, init?: RequestInit) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  if (url.href === `${ENTRA}/organizations/v2.0/.well-known/openid-configuration`) {
    return json({
      issuer: TEMPLATE, authorization_endpoint: `${ENTRA}/organizations/oauth2/v2.0/authorize`, token_endpoint: `${ENTRA}/organizations/oauth2/v2.0/token`,
      jwks_uri: `${ENTRA}/organizations/discovery/v2.0/keys`, response_types_supported: ['code'], id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['pairwise'], token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    });
  }
  if (url.href === `${ENTRA}/organizations/discovery/v2.0/keys`) return json({ keys: [publicJwk] });
  if (url.href === `${ENTRA}/organizations/oauth2/v2.0/token`) {
    const body = new URLSearchParams(String(init?.body ?? ''));
    const refuse = (error: string, status = 400) => new Response(JSON.stringify({ error }), { status, headers: { 'content-type': 'application/json' } });
    if (clientPublicKey) {
      if (body.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return refuse('invalid_client', 401);
      const verified = await jwtVerify(body.get('client_assertion') ?? '', clientPublicKey, { issuer: CLIENT_ID, subject: CLIENT_ID }).catch(() => undefined);
      if (!verified?.payload.jti || !verified.payload.aud) return refuse('invalid_client', 401);
    }
    if (body.get('code') !== 'the-code' || body.get('redirect_uri') !== REDIRECT) return refuse('invalid_grant');
    return json({ access_token: 'at', token_type: 'Bearer', expires_in: 3600, id_token: nextIdToken });
  }
  return new Response('not found', { status: 404 });
}) as typeof fetch;

async function idToken(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ aud: CLIENT_ID, iat: now, nbf: now, exp: now + 600, nonce: 'the-nonce', sub: 'pairwise-sub', email: 'ada@contoso.example', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(signingKey);
}

async function connection(extra: Record<string, unknown> = {}): Promise<ConnectionRecord> {
  const service = new ConnectionService(new MemoryConnectionRepository(), new SecretBox(Buffer.alloc(32, 7)));
  return service.create(app, createConnectionSchema.parse({ slug: 'entra', preset: 'microsoft', client_id: CLIENT_ID, client_secret: 'shh', ...extra }));
}

function clients(): UpstreamClients {
  const box = new SecretBox(Buffer.alloc(32, 7));
  const ad = (c: ConnectionRecord, what: string) => `${c.appId}:connection:${c.slug}:${what}`;
  return new UpstreamClients({
    fetch: entraFetch,
    secretsOf: (c) => ({
      clientSecret: c.secretCiphertext ? box.open(c.secretCiphertext, ad(c, 'secret')) : undefined,
      privateKey: c.privateKeyCiphertext ? JSON.parse(box.open(c.privateKeyCiphertext, ad(c, 'key'))) : undefined,
    }),
  });
}

const checks = { state: 'the-state', nonce: 'the-nonce', codeVerifier: 'v'.repeat(43) };
const callback = new URL(`${REDIRECT}?code=the-code&state=the-state`);

async function signInWith(claims: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  nextIdToken = await idToken(claims);
  return clients().exchange(await connection(extra), callback, checks);
}

async function refusal(claims: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<UpstreamProblem> {
  const error = await signInWith(claims, extra).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UpstreamProblem);
  return error as UpstreamProblem;
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  kid = randomUUID();
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' };
});

describe('the Entra ID issuer template', () => {
  it('accepts a token whose iss is the template filled with its own tid', async () => {
    const { claims } = await signInWith({ iss: `${ENTRA}/${CONTOSO}/v2.0`, tid: CONTOSO });
    expect(claims).toMatchObject({ iss: `${ENTRA}/${CONTOSO}/v2.0`, tid: CONTOSO, sub: 'pairwise-sub' });
  });

  it('refuses a token from one directory that claims another directory\'s tid', async () => {
    expect((await refusal({ iss: `${ENTRA}/${FABRIKAM}/v2.0`, tid: CONTOSO })).kind).toBe('invalid');
  });

  it('refuses a token without a tid, or with the template itself as iss', async () => {
    expect((await refusal({ iss: `${ENTRA}/${CONTOSO}/v2.0` })).kind).toBe('invalid');
    expect((await refusal({ iss: TEMPLATE, tid: CONTOSO })).kind).toBe('invalid');
  });

  it('refuses a directory outside the connection\'s allowed_tenant_ids', async () => {
    const problem = await refusal({ iss: `${ENTRA}/${FABRIKAM}/v2.0`, tid: FABRIKAM }, { allowed_tenant_ids: [CONTOSO] });
    expect(problem).toMatchObject({ kind: 'invalid', reason: 'tenant_not_allowed' });
    const { claims } = await signInWith({ iss: `${ENTRA}/${CONTOSO}/v2.0`, tid: CONTOSO }, { allowed_tenant_ids: [CONTOSO] });
    expect(claims.tid).toBe(CONTOSO);
  });

  it('refuses a token signed by another key or for another audience', async () => {
    const other = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    nextIdToken = await new SignJWT({ iss: `${ENTRA}/${CONTOSO}/v2.0`, tid: CONTOSO, aud: CLIENT_ID, iat: now, exp: now + 600, nonce: 'the-nonce', sub: 's' })
      .setProtectedHeader({ alg: 'RS256', kid }).sign(other.privateKey);
    await expect(clients().exchange(await connection(), callback, checks)).rejects.toBeInstanceOf(UpstreamProblem);
    expect((await refusal({ iss: `${ENTRA}/${CONTOSO}/v2.0`, tid: CONTOSO, aud: 'another-app' })).kind).toBe('invalid');
  });

  it('authenticates with private_key_jwt: the token endpoint gets a client assertion signed with the private key', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'portal-key-1' } as JWK;
    clientPublicKey = pair.publicKey;
    try {
      nextIdToken = await idToken({ iss: `${ENTRA}/${CONTOSO}/v2.0`, tid: CONTOSO });
      const { claims } = await clients().exchange(await connection({ client_secret: undefined, private_key_jwk: privateJwk }), callback, checks);
      expect(claims.tid).toBe(CONTOSO);
      // Another key is refused by the token endpoint: the exchange fails.
      clientPublicKey = (await generateKeyPair('ES256')).publicKey;
      await expect(clients().exchange(await connection({ client_secret: undefined, private_key_jwk: privateJwk }), callback, checks)).rejects.toMatchObject({ kind: 'invalid' });
    } finally {
      clientPublicKey = undefined;
    }
  });

  it('a secret sealed under another SECRETS_KEY makes the connection unavailable (a 503 page), not a crash', async () => {
    const wrongKey = new SecretBox(Buffer.alloc(32, 8));
    const stray = new UpstreamClients({ fetch: entraFetch, secretsOf: (c) => ({ clientSecret: wrongKey.open(c.secretCiphertext!, `${c.appId}:connection:${c.slug}:secret`) }) });
    await expect(stray.exchange(await connection(), callback, checks)).rejects.toMatchObject({ kind: 'unreachable', reason: 'credentials_unreadable' });
  });

  it('the rule itself: iss must be the template with the token\'s own tid, a directory id', () => {
    expect(entraIssuerProblem(TEMPLATE, { iss: `${ENTRA}/${CONTOSO}/v2.0`, tid: CONTOSO })).toBeUndefined();
    expect(entraIssuerProblem(TEMPLATE, { iss: `${ENTRA}/${CONTOSO}/v2.0`, tid: FABRIKAM })).toBe('issuer_mismatch');
    expect(entraIssuerProblem(TEMPLATE, { iss: `${ENTRA}/common/v2.0`, tid: 'common' })).toBe('missing_tid');
    expect(entraIssuerProblem(TEMPLATE, { iss: `${ENTRA}/${CONTOSO}/v2.0`, tid: CONTOSO }, [FABRIKAM])).toBe('tenant_not_allowed');
  });
});
