/**
 * The JWT bearer authorization grant (RFC 7523 §2.1, `urn:ietf:params:oauth:grant-type:jwt-bearer`): a confidential
 * client allowed this grant type presents an `assertion` signed by one of the app's partners (found by its `iss`),
 * and gets tokens for the account the assertion maps to, in the mapped tenant. The assertion goes through exactly
 * the validation, single-use `jti` and mapping of a partner sign-in link (`partners/partner-redemption.ts`).
 *
 * Errors follow RFC 7523 §3.1 / RFC 6749 §5.2: every assertion problem is `invalid_grant`; a client not allowed the
 * grant type gets `unauthorized_client`.
 */
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Context } from 'koa';
import type { ResponseHook } from './response-hooks.js';
import type { AppRecord } from '../storage/ports.js';
import type { PartnerService } from '../partners/partner-service.js';
import { PartnerRateLimited, type PartnerRedemption } from '../partners/partner-redemption.js';
import { PartnerTokenProblem } from '../partners/partner-token.js';
import { ServiceUnavailableError } from '../errors.js';
import { clientIp } from '../http/client-ip.js';
import { setGrantTenant } from './tenant-grant.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** amr of tokens issued from a partner's assertion (as for a partner sign-in link). */
const AMR = ['partner'];
const GRANTABLE_SCOPES = new Set(['openid', 'email', 'phone', 'profile']);

export interface PartnerGrantDeps {
  partners: PartnerService;
  partnerRedemption: PartnerRedemption;
  /** TRUST_PROXY: the provider trusts X-Forwarded-* for URLs, but a client's address comes from it only when set. */
  trustProxy: boolean;
}

type FindAccount = (ctx: KoaContextWithOIDC, sub: string, token?: unknown) => Promise<{ accountId: string; claims: (...args: never[]) => Promise<Record<string, unknown>> } | undefined>;

/**
 * Registers the grant on one app's provider, and returns the response hook that names its refusal as RFC 6749 does
 * (`unauthorizedClient`). Without partner services (tools, tests of other parts) it is left out.
 */
export function registerJwtBearerGrant(provider: Provider, app: AppRecord, deps: PartnerGrantDeps | undefined, findAccount: FindAccount): ResponseHook | undefined {
  if (!deps) return undefined;
  provider.registerGrantType(JWT_BEARER, (ctx: KoaContextWithOIDC) => jwtBearer(provider, app, deps, findAccount, ctx), new Set(['assertion', 'scope']));
  return unauthorizedClient;
}

async function jwtBearer(provider: Provider, app: AppRecord, deps: PartnerGrantDeps, findAccount: FindAccount, ctx: KoaContextWithOIDC): Promise<void> {
  const { client, params } = ctx.oidc;
  const assertion = typeof params?.assertion === 'string' ? params.assertion : '';
  if (!assertion) throw new errors.InvalidRequest("missing required parameter 'assertion'");

  const partner = await partnerOf(app, deps, assertion);
  if (!partner) throw new errors.InvalidGrant('the assertion is not from a partner of this app');
  let redeemed;
  try {
    // RFC 7523 §3: `aud` identifies the authorization server: its issuer or its token endpoint.
    redeemed = await deps.partnerRedemption.redeem(app, partner, assertion, {
      ip: clientIp(ctx as unknown as Context, deps.trustProxy), via: 'grant', audience: [provider.issuer, `${provider.issuer}/token`],
    });
  } catch (error) {
    if (error instanceof PartnerRateLimited) throw new errors.InvalidGrant('too many refused assertions; try again later');
    if (error instanceof PartnerTokenProblem) {
      if (error.kind === 'keys_unavailable') throw new ServiceUnavailableError('partner keys', error);
      throw new errors.InvalidGrant(error.kind === 'used' ? 'the assertion was already used' : error.kind === 'expired' ? 'the assertion has expired' : 'the assertion is not valid');
    }
    throw error;
  }

  const requested = new Set(String(params?.scope ?? 'openid').split(' ').filter(Boolean));
  // No refresh token (and so no offline_access): the partner presents a fresh assertion instead.
  const scopes = [...requested].filter((s) => GRANTABLE_SCOPES.has(s));
  const scope = scopes.join(' ');

  const grant = new provider.Grant({ accountId: redeemed.account.id, clientId: client!.clientId });
  grant.addOIDCScope(scope);
  setGrantTenant(grant, redeemed.tenantId);
  const grantId = await grant.save();
  ctx.oidc.entity('Grant', grant);

  const authTime = Math.floor(Date.now() / 1000);
  const account = await findAccount(ctx, redeemed.account.id, { authTime });
  if (!account) throw new errors.InvalidGrant('the account cannot be used');
  ctx.oidc.entity('Account', account as never);

  const at = new provider.AccessToken({ accountId: account.accountId, client: client!, grantId, gty: JWT_BEARER, scope: grant.getOIDCScopeFiltered(new Set(scopes)) } as never);
  ctx.oidc.entity('AccessToken', at);
  const accessToken = await at.save();

  let idToken: string | undefined;
  if (scopes.includes('openid')) {
    const claims = await (account.claims as unknown as (use: string, scope: string, claims: object, rejected: string[]) => Promise<Record<string, unknown>>)('id_token', scope, {}, []);
    const token = new provider.IdToken({ ...claims, amr: AMR, auth_time: authTime }, { ctx });
    Object.assign(token, { scope: grant.getOIDCScopeFiltered(new Set(scopes)), mask: {}, rejected: [] });
    idToken = String(await token.issue({ use: 'idtoken' }));
  }

  ctx.body = {
    access_token: accessToken,
    expires_in: at.expiration,
    token_type: at.tokenType ?? 'Bearer',
    ...(idToken ? { id_token: idToken } : {}),
    scope: at.scope,
  };
}

/**
 * The partner whose `iss` the assertion names (read without trusting it: the signature is checked against that
 * partner's keys next).
 */
async function partnerOf(app: AppRecord, deps: PartnerGrantDeps, assertion: string) {
  let iss: unknown;
  try {
    iss = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')).iss;
  } catch {
    return undefined;
  }
  if (typeof iss !== 'string') return undefined;
  return (await deps.partners.list(app)).find((p) => p.issuer === iss);
}

/** RFC 6749 §5.2: a client not allowed this grant type is `unauthorized_client` (the library says invalid_request). */
function unauthorizedClient(ctx: KoaContextWithOIDC): undefined {
  const body = ctx.body as { error?: string; error_description?: string } | undefined;
  const grantType = ctx.oidc?.params?.grant_type;
  if (ctx.path !== '/token' || ctx.status !== 400 || grantType !== JWT_BEARER) return undefined;
  if (body?.error === 'invalid_request' && body.error_description === 'requested grant type is not allowed for this client') {
    ctx.body = { error: 'unauthorized_client', error_description: 'this client is not allowed the jwt-bearer grant' };
  }
  return undefined;
}
