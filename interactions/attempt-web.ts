/**
 * The web side of a sign-in attempt, as route steps: `loadAttempt` builds the core's {@link Attempt} from the
 * request and the provider's interaction (read once per request), `attemptCsrf` checks the form's token, and
 * `run` makes the one call into the core and turns its {@link Outcome} into the response.
 */
import type { Context, Next } from 'koa';
import type { Interaction } from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import { hmac, safeEqual } from '../src/crypto/random.js';
import { ForbiddenError, NotFoundError, PortcullisError } from '../src/errors.js';
import { formOf } from '../src/http/form.js';
import { renderPage } from '../src/http/render-page.js';
import type { PooledProvider, ProviderPool } from '../src/provider/provider-pool.js';
import { setGrantTenant } from '../src/provider/tenant-grant.js';
import { clientSummary } from '../src/provider/client-summary.js';
import { isStepUpOnly } from '../src/provider/acr-step-up.js';
import { DEVICE_COOKIE_PREFIX } from '../src/mfa/remembered-device.js';
import { acrsOfClaimsRequest } from '../src/mfa/policy.js';
import type { Attempt, AttemptState, GrantRequest, Outcome } from '../src/sign-in/attempt.js';
import type { SignInMethod } from '../src/sign-in/method.js';
import { catalogue } from '../src/i18n/catalogue.js';
import type { TenantService } from '../src/tenants/tenant-service.js';
import type { AccountService } from '../src/accounts/account-service.js';
import { chooseLanguage } from '../src/i18n/choose-language.js';
import { useBrandTenant } from './brand-tenant.js';

export class InteractionExpiredError extends PortcullisError {
  constructor() {
    super(400, 'interaction_expired', 'This sign-in page has expired. Go back to the application and sign in again.');
  }
}

/** What the steps of one request share. */
interface AttemptContext {
  attempt: Attempt;
  interaction: Interaction;
  pooled: PooledProvider;
  basePath: string;
  csrf: string;
}

const secretOf = (pooled: PooledProvider) => String((pooled.provider.keys as string[] | undefined)?.[0] ?? '');

/** The interaction of this browser for `uid`, or undefined when it expired or belongs to another sign-in. */
async function findInteraction(ctx: Context, pooled: PooledProvider, uid: string): Promise<Interaction | undefined> {
  try {
    const interaction = await pooled.provider.interactionDetails(ctx.req, ctx.res);
    return interaction.uid === uid ? interaction : undefined;
  } catch (err) {
    if (err instanceof oidcErrors.SessionNotFound) return undefined;
    throw err;
  }
}

function remainingTtl(interaction: Interaction): number {
  return Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));
}

async function buildAttempt(ctx: Context, pooled: PooledProvider, interaction: Interaction): Promise<AttemptContext> {
  const client = await pooled.provider.Client.find(String(interaction.params.client_id));
  if (!client) throw new InteractionExpiredError();
  const { app, provider } = pooled;
  const state: AttemptState = { ...((interaction.result as AttemptState | undefined) ?? {}) };
  const params = interaction.params as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  // The attempt's language (OIDC Core §3.1.2.1 ui_locales): its pages and the messages it sends use it.
  const language = attemptLanguage(ctx, app, interaction, str(params.ui_locales));
  const attempt: Attempt = {
    app,
    uid: interaction.uid,
    client: clientSummary(client),
    request: {
      scope: str(params.scope) ?? 'openid', prompt: str(params.prompt), tenant: str(params.tenant), loginHint: str(params.login_hint),
      acrValues: [...(str(params.acr_values)?.split(' ').filter(Boolean) ?? []), ...acrsOfClaimsRequest(params.claims)],
    },
    promptName: interaction.prompt.name,
    sessionAccountId: interaction.session?.accountId,
    sessionAmr: (interaction.session as { amr?: string[] } | undefined)?.amr,
    stepUpOnly: isStepUpOnly(interaction.prompt),
    rememberedDevices: deviceCookies(ctx),
    rememberDevice(name, value, maxAgeSeconds) {
      // Scoped to the app's path like the provider's cookies; Secure whenever PUBLIC_URL is https.
      ctx.cookies.set(name, value, { httpOnly: true, sameSite: 'lax', path: `/apps/${app.slug}`, maxAge: maxAgeSeconds * 1000, secure: ctx.secure, overwrite: true });
    },
    ip: ctx.state.ip as string | undefined,
    language,
    userAgent: ctx.get('user-agent').slice(0, 300) || undefined,
    issuer: provider.issuer,
    secret: secretOf(pooled),
    state,
    async save(patch) {
      Object.assign(state, patch);
      interaction.result = { ...state };
      await interaction.save(remainingTtl(interaction));
    },
    saveGrant: (request) => saveGrant(pooled, interaction, attempt.client.clientId, request),
  };
  const csrf = hmac(attempt.secret, `csrf:${attempt.uid}`);
  return { attempt, interaction, pooled, basePath: `/apps/${app.slug}/interaction/${attempt.uid}`, csrf };
}

/** The remembered-device cookies the browser sent (names are fixed-format; values are checked by their HMAC). */
function deviceCookies(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (ctx.get('cookie') || '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name?.startsWith(DEVICE_COOKIE_PREFIX) && /^pc_mfa_[A-Za-z0-9_-]{16}$/.test(name)) out[name] = rest.join('=');
  }
  return out;
}

/** Reuses the session's grant for the same account and client, else starts one; records scopes, claims, tenant. */
async function saveGrant(pooled: PooledProvider, interaction: Interaction, clientId: string, request: GrantRequest): Promise<string> {
  const { provider } = pooled;
  let grant = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  if (!grant || grant.accountId !== request.accountId) grant = new provider.Grant({ accountId: request.accountId, clientId });
  const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  grant.addOIDCScope(String(interaction.params.scope ?? 'openid'));
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  setGrantTenant(grant, request.tenantId ?? undefined);
  return grant.save();
}

const attemptOf = (ctx: Context) => ctx.state.attempt as AttemptContext;

/**
 * Step 1 of every attempt route: the app, its provider and this browser's interaction for the uid in the path.
 * On a GET, the one-shot message the previous POST left is taken (post/redirect/get).
 */
export function loadAttempt(pool: ProviderPool, people?: { tenants: Pick<TenantService, 'find'>; accounts: Pick<AccountService, 'find'> }) {
  return async function attemptFromRequest(ctx: Context, next: Next) {
    if (!(await attachAttempt(ctx, pool))) throw new InteractionExpiredError();
    if (people) await Promise.all([findBrandTenant(ctx, people.tenants), useAccountLanguage(ctx, people.accounts)]);
    await next();
  };
}

/**
 * The language of the attempt: `ui_locales` (unless the person used the switcher since the sign-in began), an
 * earlier switcher choice, the account's `locale` once the person is known, Accept-Language, the app's default
 * (`src/i18n/choose-language.ts`). Settles `ctx.state.language` for renderPage.
 */
function attemptLanguage(ctx: Context, app: PooledProvider['app'], interaction: Interaction, uiLocales: string | undefined, accountLocale?: string): string {
  const chosen = ctx.state.chosenLanguage as string | undefined;
  const chosenAt = ctx.state.chosenLanguageAt as number | undefined;
  const duringThisSignIn = chosenAt !== undefined && typeof interaction.iat === 'number' && chosenAt >= interaction.iat;
  const language = chooseLanguage(catalogue().languages, {
    ...(duringThisSignIn ? { chosenNow: chosen } : { chosen }),
    uiLocales,
    accountLocale,
    acceptLanguage: ctx.get('accept-language'),
    appDefault: app.settings.locale,
    forceAppDefault: app.settings.force_locale,
  });
  ctx.state.language = language;
  return language;
}

/** Once the attempt knows who signs in, that account's `locale` comes before the browser's languages. */
async function useAccountLanguage(ctx: Context, accounts: Pick<AccountService, 'find'>): Promise<void> {
  const loaded = attemptOf(ctx);
  const { attempt, interaction } = loaded;
  const progress = attempt.state.progress;
  const accountId = progress?.accountId ?? (progress?.accountIds.length === 1 ? progress.accountIds[0] : undefined) ?? attempt.sessionAccountId;
  if (!accountId) return;
  const locale = (await accounts.find(attempt.app, accountId))?.locale;
  if (!locale) return;
  const uiLocales = typeof interaction.params.ui_locales === 'string' ? interaction.params.ui_locales : undefined;
  // Spread the attempt as it is now: findBrandTenant runs alongside and may have replaced it meanwhile.
  loaded.attempt = { ...loaded.attempt, language: attemptLanguage(ctx, attempt.app, interaction, uiLocales, locale) };
}

/**
 * The tenant whose brand the attempt's pages wear: the chosen organisation, else the request's `tenant=` (an
 * unknown one never gets here: the provider refuses the authorization request first).
 */
async function findBrandTenant(ctx: Context, tenants: Pick<TenantService, 'find'>): Promise<void> {
  const loaded = attemptOf(ctx);
  const { attempt } = loaded;
  const brandTenant = await useBrandTenant(ctx, tenants, attempt.app, attempt.state.progress?.tenantId ?? attempt.request.tenant);
  // The messages the attempt sends wear it too, and the links they carry remember it (password reset, sign-in link).
  if (brandTenant) loaded.attempt = { ...loaded.attempt, brandTenant };
}

/** Loads the attempt of the uid in the path into `ctx.state`; false when this browser has no such interaction. */
export async function attachAttempt(ctx: Context, pool: ProviderPool): Promise<boolean> {
  const { slug, uid } = ctx.params as { slug: string; uid: string };
  const pooled = await pool.get(slug);
  if (!pooled) throw new NotFoundError(`No app "${slug}".`);
  const interaction = await findInteraction(ctx, pooled, uid);
  if (!interaction) return false;
  const loaded = await buildAttempt(ctx, pooled, interaction);
  const { flash } = loaded.attempt.state;
  if (ctx.method === 'GET' && flash) {
    await loaded.attempt.save({ flash: undefined });
    loaded.attempt = { ...loaded.attempt, flash };
  }
  ctx.state.attempt = loaded;
  return true;
}

/** A step for the routes of one method: 404 when the app does not offer it (before anything is read). */
export function offered(method: Pick<SignInMethod, 'enabled'>) {
  return async function methodOffered(ctx: Context, next: Next) {
    if (!method.enabled(attemptOf(ctx).attempt.app)) throw new NotFoundError('This app does not offer this way of signing in.');
    await next();
  };
}

/** The CSRF token is an HMAC of the interaction's uid with the app's cookie key (OWASP ASVS V4.2.2). */
export async function attemptCsrf(ctx: Context, next: Next) {
  const sent = formOf(ctx).raw._csrf;
  if (!sent || !safeEqual(sent, attemptOf(ctx).csrf)) {
    throw new ForbiddenError('The form has expired or did not come from this site. Reload the page and try again.');
  }
  await next();
}

type Handler<T> = (attempt: Attempt, input: T, ctx: Context) => Promise<Outcome> | Outcome;

/**
 * The last step: one call into the core. With a form, `invalid` answers a body that did not match the schema (the
 * handler then never runs).
 */
export function run<T>(handler: Handler<T>, invalid?: (raw: Record<string, string>) => Outcome) {
  return async function callCore(ctx: Context) {
    const { attempt } = attemptOf(ctx);
    const submitted = ctx.state.form ? formOf<T>(ctx) : undefined;
    const outcome = submitted && submitted.input === undefined && invalid
      ? invalid(submitted.raw)
      : await handler(attempt, submitted?.input as T, ctx);
    await respond(ctx, outcome);
  };
}

/** Turns an outcome into the response. */
export async function respond(ctx: Context, outcome: Outcome): Promise<void> {
  const { attempt, interaction, basePath, csrf } = attemptOf(ctx);
  switch (outcome.kind) {
    case 'page': {
      const { flash } = attempt;
      return renderPage(ctx, outcome.view, {
        app: attempt.app,
        client: attempt.client,
        csrf,
        basePath,
        appPath: `/apps/${attempt.app.slug}`,
        error: flash?.error,
        notice: flash?.notice,
        ...outcome.locals,
      }, { status: outcome.status, retryAfter: outcome.retryAfter, formTargets: [...attempt.client.redirectOrigins, ...(outcome.formTargets ?? [])], scripts: outcome.scripts });
    }
    case 'again':
      await attempt.save({ flash: outcome.flash });
      return seeOther(ctx, basePath + (outcome.at ?? ''));
    case 'go':
      return seeOther(ctx, basePath + outcome.at);
    case 'redirect':
      return seeOther(ctx, outcome.to);
    case 'finish':
      // What provider.interactionFinished does, on the interaction already loaded (one store read less).
      interaction.result = outcome.result;
      await interaction.save(remainingTtl(interaction));
      return seeOther(ctx, interaction.returnTo);
    case 'handoff':
      throw new Error('a hand-off is started from an app page, never inside an attempt');
  }
}

/** Post/redirect/get: every form POST answers 303. */
export function seeOther(ctx: Context, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}
