/**
 * The benchmark's reference: a bare oidc-provider (the version Portcullis depends on) with its built-in memory
 * adapter, static clients, and a one-step interaction (one POST signs in and grants consent, no password hashing),
 * mounted on Koa the way `src/provider/provider-mount.ts` mounts an app's provider under `/apps/{slug}`.
 * It runs in its own process; the benchmark measures it in the same run as Portcullis, alternating.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Provider from 'oidc-provider';
import { generateAppKeys } from '../../src/apps/app-keys.js';
import { serveCommands } from '../lib/proc.js';
import { BARE_CLIENTS } from './bare-clients.js';

const BARE = { slug: 'bare', ...BARE_CLIENTS, redirectUri: 'https://rp.example.test/callback' };

const port = Number(process.env.PORT);
const basePath = `/apps/${BARE.slug}`;
// The keys a Portcullis app publishes once its provider is built: ES256 + RS256.
const keys = await generateAppKeys('bare', { withRsa: true });
const provider = new Provider(`http://127.0.0.1:${port}${basePath}`, {
  clients: [
    { ...BARE.m2m, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
    { ...BARE.web, grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [BARE.redirectUri], response_types: ['code'] },
  ],
  jwks: { keys: keys.jwks as never },
  cookies: { keys: keys.cookieKeys, long: { httpOnly: true, sameSite: 'lax', path: basePath }, short: { httpOnly: true, sameSite: 'lax', path: basePath } },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true }, introspection: { enabled: true }, revocation: { enabled: true } },
  interactions: { url: (_ctx, interaction) => `${basePath}/interaction/${interaction.uid}` },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, email: 'bench@example.com', email_verified: true }) }),
});
provider.proxy = true;
const handle = provider.callback();

const koa = new Koa();
koa.use(async (ctx, next) => {
  if (!ctx.path.startsWith(`${basePath}/interaction/`)) return next();
  if (ctx.method === 'GET') {
    const { uid } = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.type = 'html';
    ctx.body = `<!doctype html><form method="post" action="${basePath}/interaction/${uid}"><input type="hidden" name="step" value="login"><button>Continue</button></form>`;
    return;
  }
  // One step: sign in and grant the requested scope (what a first-party client's consent amounts to).
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const grant = new provider.Grant({ accountId: 'bench-account', clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  ctx.respond = false;
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: 'bench-account' }, consent: { grantId } }, { mergeWithLastSubmission: false });
});
koa.use(async (ctx, next) => {
  // As providerMount does: the provider sees the path below the prefix, originalUrl tells it the mount point.
  if (!ctx.path.startsWith(basePath)) return next();
  (ctx.req as { originalUrl?: string }).originalUrl = ctx.req.url;
  ctx.req.url = ctx.req.url!.slice(basePath.length) || '/';
  ctx.respond = false;
  await handle(ctx.req, ctx.res);
});

const server = createServer(koa.callback());
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
const gc = (globalThis as { gc?: () => void }).gc;
serveCommands({ memory: () => { gc?.(); return process.memoryUsage(); } }, { port: (server.address() as AddressInfo).port });
process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); process.exit(0); });
