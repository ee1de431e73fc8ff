/**
 * Builds one oidc-provider instance for one app. Every setting that differs from the library's default is here,
 * with the reason; `interactions/` implements the pages the provider sends people to.
 */
import { errorPage } from '../http/error-page.js';
import { catalogue } from '../i18n/catalogue.js';
import { chooseLanguage } from '../i18n/choose-language.js';
import Provider, { errors, interactionPolicy, type Adapter, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/index.js';
import { issuerFor } from '../../config/index.js';
import type {
  AccountRecord, AppKeysRecord, AppRecord, ClientRepository, EphemeralStore, OidcAdapterFactory, ResourceRepository,
} from '../storage/ports.js';
import type { ClientService } from '../clients/client-service.js';
import type { AccountService } from '../accounts/account-service.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { renderPage } from '../http/render-page.js';
import { tenantOfGrant } from './tenant-grant.js';
import { revokingOnReuse } from './reuse-revocation.js';
import { clientAuthRequired } from './client-auth-required.js';
import { checkRequestedTenant, keepOfflineAccessForFirstParty } from './authorization-params.js';
import { loadExistingGrantWithTenant, tenantDecision } from './tenant-switch.js';
import { renderLogoutPage } from './logout-page.js';
import { registerJwtBearerGrant, type PartnerGrantDeps } from './jwt-bearer-grant.js';
import { clientMetadataCache } from './client-cache.js';
import { reuseClients } from './client-reuse.js';
import { ACR_VALUES, acrStepUpCheck } from './acr-step-up.js';
import { ResourceServers } from './resource-servers.js';
import { JwtAccessTokens } from './jwt-access-tokens.js';
import { CookieSigner } from './cookie-signer.js';
import { resourceJwtCustomizer, resourceTokenClaims } from './resource-token-claims.js';
import { recordSessionDetails } from './session-details-recorder.js';
import { afterProviderResponse } from './response-hooks.js';
import { ACCOUNT_SCOPES } from '../account-api/bearer-token.js';
import { centerCallback } from '../account-center/center-client.js';
import type { SessionDetailsStore } from '../sessions/session-details.js';

export interface ProviderDeps {
  config: Config;
  oidcAdapter: OidcAdapterFactory;
  clientRepository: ClientRepository;
  clients: ClientService;
  accounts: AccountService;
  tenants: TenantService;
  /** API resources (RFC 8707), read once per provider build (`resource-servers.ts`). */
  resources: Pick<ResourceRepository, 'list'>;
  /** Short-lived state: the `jti`s of issued JWT access tokens (`jwt-access-tokens.ts`). */
  ephemeral: EphemeralStore;
  /** Partners whose assertions the jwt-bearer grant accepts (RFC 7523). */
  partnerGrant?: PartnerGrantDeps;
  /** Where and how sessions were signed in, for the account's session list (`session-details-recorder.ts`). */
  sessionDetails?: SessionDetailsStore;
  /** Called for errors the provider reports as server_error (logging). */
  onServerError(app: AppRecord, error: unknown): void;
}

/** Claims released by scope (OIDC Core §5.4). Tenant claims ride on `openid`: every ID token carries them. */
export const CLAIMS_BY_SCOPE = {
  openid: ['sub', 'acr', 'amr', 'tenant_id', 'tenant_slug', 'tenant_name', 'roles'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  profile: ['name', 'locale', 'updated_at'],
};

export async function buildProvider(app: AppRecord, keys: AppKeysRecord, deps: ProviderDeps): Promise<Provider> {
  const { config } = deps;
  const adapters = revokingOnReuse(deps.oidcAdapter(app.id));
  const lookupClient = clientLookup(app, deps);
  const clientAdapter = clientLookupAdapter(lookupClient);
  const basePath = `/apps/${app.slug}`;
  const centerCallbackUri = centerCallback(issuerFor(config, app.slug));
  const resourceServers = new ResourceServers(app, await deps.resources.list(app.id), deps.tenants, (client) => client.redirectUris?.includes(centerCallbackUri) ?? false);
  const jwtTokens = new JwtAccessTokens(app, deps.ephemeral, keys.jwks, (ctx, sub, token) => findAccount(app, deps, ctx, sub, token));

  const configuration: Configuration = {
    adapter: ((name: string) => (name === 'Client' ? clientAdapter : adapters(name))) as unknown as Configuration['adapter'],
    clients: [],
    jwks: { keys: keys.jwks as never },
    cookies: {
      // Keygrip-compatible signatures at a third of Keygrip's cost (see cookie-signer.ts).
      keys: new CookieSigner(keys.cookieKeys) as unknown as string[],
      // Scoped to the app's path: a browser never sends one app's session cookie to another app.
      long: { httpOnly: true, sameSite: 'lax', path: basePath },
      short: { httpOnly: true, sameSite: 'lax', path: basePath },
    },
    claims: CLAIMS_BY_SCOPE,
    // The account API's scopes (src/account-api/): a client asks for them like any other scope.
    scopes: ['openid', 'offline_access', ...ACCOUNT_SCOPES],
    // `acr` (OIDC Core §2) rides on `openid` like `amr`; discovery lists the two levels (acr_values_supported).
    acrValues: [...ACR_VALUES],
    // OIDC Discovery 1.0 §3: the languages the pages can be shown in (`ui_locales`); only the app's own when pinned.
    discovery: { ui_locales_supported: uiLocalesSupported(app) },
    // ID tokens carry the scope's claims (tenant, email, profile) even in the code flow, as portal RPs expect.
    conformIdTokenClaims: false,
    // The validator is the library's one hook after its own parameter checks (see authorization-params.ts).
    extraParams: {
      tenant: async (ctx, value, client) => {
        keepOfflineAccessForFirstParty(ctx, client);
        await checkRequestedTenant(app, deps.tenants, value);
      },
    },
    loadExistingGrant: loadExistingGrantWithTenant(app, deps.tenants),
    extraClientMetadata: { properties: ['urn:portcullis:first_party', 'urn:portcullis:require_pkce', 'urn:portcullis:tenant_id'] },
    findAccount: (ctx, sub, token) => findAccount(app, deps, ctx as KoaContextWithOIDC, sub, token),
    // Access tokens for an API resource carry the grant's tenant and roles (resource-token-claims.ts).
    extraTokenClaims: resourceTokenClaims(app, deps.tenants),
    formats: { customizers: { jwt: resourceJwtCustomizer(jwtTokens) } },
    interactions: {
      url: (_ctx, interaction) => `${basePath}/interaction/${interaction.uid}`,
      policy: interactionPolicyFor(app, deps),
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      // OIDC Core §5.5: the `claims` parameter, e.g. an essential `acr` of urn:portcullis:acr:mfa for step-up.
      claimsParameter: { enabled: true },
      // RFC 8707: tokens for the app's API resources (JWT per RFC 9068 by default).
      resourceIndicators: resourceServers.config(),
      // RFC 9449 sender-constrained tokens; advertised as dpop_signing_alg_values_supported. Refresh tokens of public
      // clients that present a proof are bound to its key by the library (RFC 9449 §5, RFC 9700 §4.14.2).
      dPoP: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => renderLogoutPage(app, ctx as KoaContextWithOIDC, form),
        postLogoutSuccessSource: async (ctx) => renderProviderPage(ctx, 'logged-out', { app, title: 'logout:done.title' }),
      },
    },
    // RFC 9700 §2.1.1: PKCE for every code flow. S256 is the only method oidc-provider accepts. A confidential
    // client may opt out (`require_pkce: false`) for legacy relying parties; public clients never can.
    pkce: {
      required: (_ctx, client) => client.clientAuthMethod === 'none' || client.metadata()['urn:portcullis:require_pkce'] !== false,
    },
    responseTypes: ['code'],
    // RFC 9700 §4.14.2: refresh tokens of every client rotate on use, and reuse of a rotated one is refused.
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      // Absolute lifetime counted from sign-in (OWASP ASVS V3.3.1), not renewed by activity.
      Session: (_ctx, session) => absoluteSessionTtl(session.loginTs, app.settings.session_ttl_seconds),
      Interaction: config.INTERACTION_TTL_SECONDS,
      AuthorizationCode: config.AUTH_CODE_TTL_SECONDS,
      // A resource's own lifetime (5 minutes by default) for its tokens: revocation reaches APIs that validate locally.
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ACCESS_TOKEN_TTL_SECONDS,
      IdToken: config.ID_TOKEN_TTL_SECONDS,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ACCESS_TOKEN_TTL_SECONDS,
      RefreshToken: config.REFRESH_TOKEN_TTL_SECONDS,
      Grant: config.REFRESH_TOKEN_TTL_SECONDS,
    },
    // A session's refresh tokens and access tokens end with it unless offline_access was granted.
    expiresWithSession: async (_ctx, token) => !token.scopes.has('offline_access'),
    renderError: async (ctx, out, error) => {
      if ((error as { statusCode?: number }).statusCode === 503) ctx.status = 503;
      else if (error instanceof errors.OIDCProviderError === false) deps.onServerError(app, error);
      renderProviderPage(ctx, 'error', { app, ...errorPage(ctx, ctx.status, out.error, out.error_description) }, ctx.status);
    },
  };

  const provider = new Provider(issuerFor(config, app.slug), configuration);
  // The server rewrites Host and X-Forwarded-Proto from PUBLIC_URL before the provider sees a request, so the
  // provider may trust them: URLs and the cookies' Secure flag follow PUBLIC_URL, never the caller's Host header.
  provider.proxy = true;
  reuseClients(provider, lookupClient);
  const jwtBearerRefusal = registerJwtBearerGrant(provider, app, deps.partnerGrant, (ctx, sub, token) => findAccount(app, deps, ctx, sub, token));
  // Corrections of the provider's answers, innermost first (the order in which they used to wrap the provider).
  provider.use(afterProviderResponse([
    ...(jwtBearerRefusal ? [jwtBearerRefusal] : []),
    ...(deps.sessionDetails ? [recordSessionDetails(app, deps.sessionDetails, {
      trustProxy: config.TRUST_PROXY, sessionTtl: (loginTs) => absoluteSessionTtl(loginTs, app.settings.session_ttl_seconds),
    })] : []),
    jwtTokens.answerForJwts(provider),
    clientAuthRequired(provider.issuer),
  ]) as never);
  provider.on('server_error', (_ctx, err) => deps.onServerError(app, err));
  return provider;
}

/** Seconds the session may still live: the full lifetime before sign-in, what is left of it after. */
export function absoluteSessionTtl(loginTs: number | undefined, lifetime: number, now = Math.floor(Date.now() / 1000)): number {
  return loginTs ? Math.max(1, loginTs + lifetime - now) : lifetime;
}

/** The catalogue's languages, or just the app's when it pins its language (`force_locale`). */
function uiLocalesSupported(app: AppRecord): string[] {
  const { languages } = catalogue();
  if (!app.settings.force_locale) return [...languages];
  return [chooseLanguage(languages, { appDefault: app.settings.locale })];
}

function renderProviderPage(ctx: KoaContextWithOIDC, view: string, locals: Record<string, unknown>, status?: number): void {
  renderPage(ctx as never, view, locals, { status });
}

/**
 * Clients live in our repository. The metadata (secret decrypted) is cached per client version, shared by all apps'
 * providers of this process (see client-cache.ts); the provider's `Client` objects are kept per version too
 * (client-reuse.ts).
 */
function clientLookup(app: AppRecord, deps: ProviderDeps): (clientId: string) => Promise<ClientMetadata | undefined> {
  const cache = clientMetadataCache(deps.clientRepository, deps.clients);
  return (clientId) => cache.find(app.id, clientId);
}

/** The read-only adapter the provider's Client model is given (its `find` is replaced by client-reuse.ts). */
function clientLookupAdapter(lookup: (clientId: string) => Promise<ClientMetadata | undefined>): Adapter {
  const readOnly = async () => {
    throw new Error('clients are managed through the Admin API');
  };
  return {
    async find(id: string) {
      return (await lookup(id)) as never;
    },
    upsert: readOnly,
    findByUid: readOnly,
    findByUserCode: readOnly,
    consume: readOnly,
    destroy: readOnly,
    revokeByGrantId: readOnly,
  };
}

/** When the sign-in behind this request happened (seconds): the token's, else the browser session's. */
function signInTime(ctx: KoaContextWithOIDC, token: unknown): number | undefined {
  const t = token as { authTime?: number; iat?: number } | undefined;
  return t?.authTime ?? t?.iat ?? ctx.oidc?.session?.loginTs;
}

/**
 * The account behind a session or token, or undefined when it may no longer be used: deleted, not active, or
 * signed in before its password was reset (then refresh gives invalid_grant, userinfo invalid_token, and the
 * browser is asked to sign in again).
 */
async function findAccount(app: AppRecord, deps: ProviderDeps, ctx: KoaContextWithOIDC, sub: string, token?: unknown) {
  const account = await deps.accounts.find(app, sub);
  if (!account || account.status !== 'active') return undefined;
  const signedIn = signInTime(ctx, token);
  if (account.signInsValidFrom && (signedIn === undefined || signedIn * 1000 < account.signInsValidFrom.getTime())) return undefined;
  return {
    accountId: sub,
    claims: async () => ({ ...standardClaims(account), ...(await tenantClaims(app, deps, ctx, sub)) }),
  };
}

function standardClaims(account: AccountRecord) {
  return {
    sub: account.id,
    email: account.email,
    email_verified: account.email ? account.emailVerified : undefined,
    phone_number: account.phone,
    phone_number_verified: account.phone ? account.phoneVerified : undefined,
    name: account.name,
    locale: account.locale,
    updated_at: Math.floor(account.updatedAt.getTime() / 1000),
  };
}

/** Claims of the tenant chosen at sign-in (recorded on the grant); none when the grant has no tenant. */
async function tenantClaims(app: AppRecord, deps: ProviderDeps, ctx: KoaContextWithOIDC, sub: string) {
  const tenantId = tenantOfGrant(ctx.oidc?.entities?.Grant);
  if (!tenantId) return {};
  const membership = await deps.tenants.membership(app, tenantId, sub);
  // Removed from the tenant since signing in: the tenant claims go, rather than stale roles staying.
  if (!membership) return {};
  return { tenant_id: membership.tenant.id, tenant_slug: membership.tenant.slug, tenant_name: membership.tenant.name, roles: membership.roles };
}

/**
 * The library's login and consent prompts, plus:
 * - `select_account` (OIDC Core §3.1.2.1), requestable: shows the tenant (and account) chooser again;
 * - a consent check that asks when the tenant of this sign-in needs the person (`chooseTenant` in
 *   src/tenants/tenant-choice.ts answers `choose`): several tenants and none chosen or requested, or
 *   `prompt=select_account`. Switches that need no page were already made by `loadExistingGrant`.
 */
function interactionPolicyFor(app: AppRecord, deps: ProviderDeps) {
  const { Prompt, Check, base } = interactionPolicy;
  const policy = base();
  // A session whose account can no longer be used (deactivated, deleted, password reset since) must sign in again;
  // with prompt=none the client gets login_required.
  policy.get('login')!.checks.add(
    new Check('account_unavailable', 'the signed-in account can no longer be used', 'login_required', (ctx) =>
      ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
    0,
  );
  policy.get('login')!.checks.add(acrStepUpCheck(app, deps.tenants));
  policy.add(new Prompt({ name: 'select_account', requestable: true }), 1);
  policy.get('consent')!.checks.add(
    new Check('tenant_selection_required', 'the tenant for this sign-in must be chosen', 'interaction_required', async (ctx) => {
      const { oidc } = ctx;
      const accountId = oidc.session?.accountId;
      // Our interaction just chose the tenant for this grant: never ask twice in one flow.
      if (!accountId || !oidc.grant || oidc.result?.consent) return Check.NO_NEED_TO_PROMPT;
      // loadExistingGrant has already applied every decision that needs no page; ask only when one is left.
      const decision = await tenantDecision(app, deps.tenants, ctx, accountId, oidc.grant);
      const current = tenantOfGrant(oidc.grant);
      if (decision.kind === 'tenant' && decision.tenantId === current) return Check.NO_NEED_TO_PROMPT;
      if (decision.kind === 'no_tenant' && current === undefined) return Check.NO_NEED_TO_PROMPT;
      return Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}
