/**
 * The account center's pages at `/apps/{slug}/account`: thin routes over the account, session, factor and support
 * PIN services. Every form carries the center session's CSRF token and answers 303 (post/redirect/get); a form that
 * does not validate answers 400 with the page and a message at the section; a wrong CSRF token is a 403.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import * as oidc from 'openid-client';
import { z } from 'zod';
import type { AccountService } from '../accounts/account-service.js';
import { emailSchema, personName, phoneSchema } from '../accounts/contact-schemas.js';
import { typedPasswordSchema } from '../accounts/password-policy.js';
import { checkAccessToken } from '../account-api/bearer-token.js';
import { PROFILE_LOCALES, recordIdParam } from '../account-api/account-api-schemas.js';
import type { ClientService } from '../clients/client-service.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { readForm } from '../http/body.js';
import { renderPage } from '../http/render-page.js';
import { catalogue } from '../i18n/catalogue.js';
import { chooseLanguage } from '../i18n/choose-language.js';
import type { FactorService } from '../mfa/factor-service.js';
import type { ProviderPool, PooledProvider } from '../provider/provider-pool.js';
import { ACR_MFA, countingMethods } from '../mfa/policy.js';
import { PasskeyRefused } from '../mfa/webauthn-service.js';
import { PASSKEY_SCRIPTS } from '../sign-in/second-factor-stage.js';
import { passkeyForm } from '../sign-in/methods/passkey.js';
import type { AccountSessions } from '../sessions/account-sessions.js';
import type { Offboarding } from '../sessions/offboarding.js';
import type { SignInHistory } from '../sessions/sign-in-history.js';
import type { SupportPinService } from '../support-pin/support-pin-service.js';
import type { AccountRecord, AppRecord } from '../storage/ports.js';
import { CENTER_SCOPE, centerCallback, type CenterClients } from './center-client.js';
import { CENTER_COOKIE, LOGIN_COOKIE, type CenterSession, type CenterSessions } from './center-session.js';
import { RECENT_SIGN_IN_SECONDS, type SelfService } from './self-service.js';

export interface CenterDeps {
  pool: ProviderPool;
  accounts: AccountService;
  clients: ClientService;
  factors: FactorService;
  sessions: AccountSessions;
  offboarding: Offboarding;
  history: SignInHistory;
  pins: SupportPinService;
  selfService: SelfService;
  centerClients: CenterClients;
  centerSessions: CenterSessions;
  issuerOf: (app: AppRecord) => string;
}

/** What every center route has once the person is known. */
interface Center {
  app: AppRecord;
  pooled: PooledProvider;
  id: string;
  session: CenterSession;
  account: AccountRecord;
  clientId: string;
  csrf: string;
  /** The app session's uid that the center's sign-in belongs to ("this device"). */
  currentSession?: string;
}



const profileForm = z.object({ name: personName, locale: z.enum(PROFILE_LOCALES) });
const emailForm = z.object({ email: emailSchema });
const phoneForm = z.object({ phone_number: phoneSchema });
const codeForm = z.object({ code: z.string().trim().regex(/^\d{6}$/) });
const passwordForm = z.object({
  current_password: typedPasswordSchema.optional(),
  new_password: typedPasswordSchema.min(1),
  new_password_confirm: typedPasswordSchema,
  keep_sessions: z.literal('yes').optional(),
});
const deleteForm = z.object({ confirm: z.literal('yes') });

const cookiePath = (slug: string) => `/apps/${slug}/account`;
/** Weakening the account (removing a factor, deleting it) needs a sign-in within the last 5 minutes (OWASP ASVS V3.7.1). */
const recentlySignedIn = (center: Center) => Date.now() / 1000 - center.session.authTime <= RECENT_SIGN_IN_SECONDS;
const centerOf = (ctx: Context) => ctx.state.center as Center;
/** An authenticator app counts as a second factor in this app. */
const offersTotp = (app: AppRecord) => (app.settings.mfa ?? 'off') !== 'off' && countingMethods(app).includes('totp');
/** Passkeys have a use in this app: as a second factor, or as the whole sign-in. */
const offersPasskeys = (app: AppRecord) =>
  app.settings.passkey_sign_in === true || ((app.settings.mfa ?? 'off') !== 'off' && countingMethods(app).includes('webauthn'));

export function accountCenterRouter(deps: CenterDeps): Router {
  const router = new Router({ prefix: '/apps/:slug' });
  const base = (app: AppRecord) => `/apps/${app.slug}/account`;

  const setCookie = (ctx: Context, app: AppRecord, name: string, value: string | null, maxAgeSeconds?: number) => {
    ctx.cookies.set(name, value, { httpOnly: true, sameSite: 'lax', path: cookiePath(app.slug), secure: ctx.secure, overwrite: true, ...(maxAgeSeconds ? { maxAge: maxAgeSeconds * 1000 } : {}) });
  };

  const seeOther = (ctx: Context, location: string) => {
    ctx.status = 303;
    ctx.redirect(location);
  };

  /** Starts the center's sign-in at the app (authorization code + PKCE + state + nonce). */
  const startLogin = async (ctx: Context, pooled: PooledProvider, extra: Record<string, string> = {}) => {
    const { app } = pooled;
    const client = await deps.centerClients.ensure(app);
    const config = await deps.centerClients.config(app, client.clientId);
    const verifier = oidc.randomPKCECodeVerifier();
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier };
    setCookie(ctx, app, LOGIN_COOKIE, await deps.centerSessions.beginLogin(app.id, pending), 600);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: centerCallback(deps.issuerOf(app)), scope: CENTER_SCOPE, state: pending.state, nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
    });
    ctx.status = 303;
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url.href);
  };

  const appOf = async (ctx: Context): Promise<PooledProvider> => {
    const pooled = await deps.pool.get(ctx.params.slug);
    if (!pooled) throw new NotFoundError(`No app "${ctx.params.slug}".`);
    return pooled;
  };

  /** Loads the signed-in center session (its token still good), or starts a sign-in. */
  const signedIn = async (ctx: Context, next: Next) => {
    const pooled = await appOf(ctx);
    const { app } = pooled;
    const id = ctx.cookies.get(CENTER_COOKIE);
    const session = id ? await deps.centerSessions.find(app.id, id) : undefined;
    const caller = session ? await checkAccessToken(pooled.provider, app, deps.accounts, session.accessToken) : undefined;
    if (!id || !session || !caller || caller === 'sender_constrained') {
      if (id) {
        await deps.centerSessions.end(app.id, id);
        setCookie(ctx, app, CENTER_COOKIE, null);
      }
      // A form sent after the sign-in ended goes back to the page, which signs in again (its input is not replayed).
      if (ctx.method !== 'GET') return seeOther(ctx, base(app));
      return startLogin(ctx, pooled);
    }
    ctx.state.language = chooseLanguage(catalogue().languages, { accountLocale: caller.account.locale, acceptLanguage: ctx.get('accept-language'), appDefault: app.settings.locale });
    ctx.state.center = {
      app, pooled, id, session, account: caller.account, clientId: caller.clientId, csrf: deps.centerSessions.csrf(id), currentSession: caller.sessionUid,
    } satisfies Center;
    ctx.set('Cache-Control', 'no-store');
    await next();
  };

  /** Reads the form, checks its CSRF token (403), and hands the raw fields on. */
  const csrf = async (ctx: Context, next: Next) => {
    const raw = await readForm(ctx);
    if (!deps.centerSessions.csrfMatches(centerOf(ctx).id, raw._csrf)) throw new ForbiddenError('The form has expired or did not come from this site. Reload the page and try again.');
    ctx.state.raw = raw;
    await next();
  };

  const parse = <S extends z.ZodType>(ctx: Context, schema: S): z.output<S> | undefined => {
    const parsed = schema.safeParse(ctx.state.raw);
    return parsed.success ? parsed.data : undefined;
  };

  const done = async (ctx: Context, notice: string, section: string, extra: Partial<NonNullable<CenterSession['flash']>> = {}) => {
    const center = centerOf(ctx);
    await deps.centerSessions.save(center.app.id, center.id, { ...center.session, flash: { notice, ...extra } });
    seeOther(ctx, `${base(center.app)}#${section}`);
  };

  /** The page, with a message at one section: 400 for input that does not validate, 200 otherwise. */
  const page = async (ctx: Context, status = 200, problem?: { section: string; error: string }) => {
    const center = centerOf(ctx);
    const { app, account } = center;
    const flash = center.session.flash;
    if (flash) await deps.centerSessions.save(app.id, center.id, { ...center.session, flash: undefined });
    const [factors, usable, sessions, grants, clients, history, pinExpiry, pendingEmail, pendingPhone] = await Promise.all([
      deps.factors.list(app, account.id), deps.factors.usable(app, account.id), deps.sessions.sessions(app, account.id),
      deps.sessions.grants(app, account.id), deps.clients.list(app), deps.history.list(app, account.id), deps.pins.current(app, account.id),
      deps.selfService.pending(app, account, 'email'), deps.selfService.pending(app, account, 'phone'),
    ]);
    const names = new Map(clients.map((c) => [c.clientId, c.name]));
    const t = catalogue().translator(String(ctx.state.language));
    // Adding a passkey strengthens the account but also lets whoever holds this session keep access: it needs a
    // recent sign-in too (OWASP ASVS V2.5.x re-authentication before changing authenticators). The ceremony's
    // challenge belongs to this center session.
    const recent = recentlySignedIn(center);
    const passkey = offersPasskeys(app) && recent
      ? { ceremony: 'register', action: '/security/passkey', options: await deps.factors.webauthn.registrationOptions(app, account, center.id), label: 'account:security.add_passkey', primary: false }
      : undefined;
    const totpWanted = offersTotp(app) && !factors.some((f) => f.type === 'totp');
    const totp = totpWanted && recent ? await deps.factors.beginTotp(app, account.id, center.id, account.email ?? account.phone ?? account.name ?? account.id) : undefined;
    const launcher = clients.filter((c) => c.firstParty && c.initiateLoginUri && c.clientId !== center.clientId && c.showInLauncher !== false)
      .map((c) => ({ name: c.name, description: c.description, logo: c.logoUri, href: launchUrl(c.initiateLoginUri!, deps.issuerOf(app)) }));
    renderPage(ctx, 'account/index', {
      app, title: t('account:title'), csrf: center.csrf, base: base(app), account, problem, notice: flash?.notice, pin: flash?.pin, pinExpiry,
      recoveryCodes: flash?.recoveryCodes, passkey, totp, basePath: base(app), addNeedsSignIn: !recent && (offersPasskeys(app) || totpWanted),
      pendingEmail, pendingPhone, locales: PROFILE_LOCALES,
      factors: factors.filter((f) => f.type !== 'recovery_codes'),
      hasRecoveryCodes: factors.some((f) => f.type === 'recovery_codes'),
      canEnrol: (app.settings.mfa ?? 'off') !== 'off' && usable.length === 0,
      sessions: sessions.map((s) => ({ ...s, current: center.currentSession !== undefined && s.id === center.currentSession, clientNames: s.clientIds.map((id) => names.get(id) ?? id) })),
      launcher,
      grants: grants.filter((g) => g.clientId !== center.clientId).map((g) => ({ ...g, clientName: names.get(g.clientId) ?? g.clientId })),
      history,
      deletion: app.settings.self_service_deletion === true,
      formatTime: (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    }, { status, scripts: passkey ? PASSKEY_SCRIPTS : undefined, images: launcher.flatMap((entry) => (entry.logo ? [new URL(entry.logo).origin] : [])) });
  };

  // The sign-in's return (OIDC Core §3.1.2.5): the code is exchanged with the verifier kept for this browser.
  router.get('/account/callback', async (ctx) => {
    const pooled = await appOf(ctx);
    const { app } = pooled;
    const pendingId = ctx.cookies.get(LOGIN_COOKIE);
    const pending = pendingId ? await deps.centerSessions.takeLogin(app.id, pendingId) : undefined;
    setCookie(ctx, app, LOGIN_COOKIE, null);
    if (!pending) return startLogin(ctx, pooled);
    const client = await deps.centerClients.ensure(app);
    const config = await deps.centerClients.config(app, client.clientId);
    const current = new URL(ctx.originalUrl, deps.issuerOf(app));
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce });
    } catch (error) {
      const t = catalogue().translator(chooseLanguage(catalogue().languages, { acceptLanguage: ctx.get('accept-language'), appDefault: app.settings.locale }));
      const code = (error as { error?: string }).error ?? 'invalid_request';
      return renderPage(ctx, 'account/problem', { app, title: t('account:problem.title'), code, base: base(app) }, { status: 400 });
    }
    const claims = tokens.claims()!;
    // A token the pages could not act with would send the browser round the sign-in forever: stop here instead.
    const usable = await checkAccessToken(pooled.provider, app, deps.accounts, tokens.access_token);
    if (!usable || usable === 'sender_constrained') {
      const t = catalogue().translator(chooseLanguage(catalogue().languages, { acceptLanguage: ctx.get('accept-language'), appDefault: app.settings.locale }));
      return renderPage(ctx, 'account/problem', { app, title: t('account:problem.title'), code: 'unusable_token', base: base(app) }, { status: 502 });
    }
    const ttl = Math.max(60, tokens.expiresIn() ?? 300);
    const id = await deps.centerSessions.create(app.id, {
      accountId: claims.sub, sid: typeof claims.sid === 'string' ? claims.sid : undefined,
      authTime: typeof claims.auth_time === 'number' ? claims.auth_time : Math.floor(Date.now() / 1000), accessToken: tokens.access_token,
    }, ttl);
    setCookie(ctx, app, CENTER_COOKIE, id, ttl);
    seeOther(ctx, base(app));
  });

  router.get('/account', signedIn, (ctx) => page(ctx));

  router.post('/account/profile', signedIn, csrf, async (ctx) => {
    const input = parse(ctx, profileForm);
    if (!input) return page(ctx, 400, { section: 'profile', error: 'account:profile.invalid' });
    const { app, account } = centerOf(ctx);
    await deps.selfService.updateProfile(app, account, input, { ip: ctx.state.ip as string | undefined });
    await done(ctx, 'account:profile.saved', 'profile');
  });

  for (const contact of ['email', 'phone'] as const) {
    const form = contact === 'email' ? emailForm : phoneForm;
    router.post(`/account/${contact}`, signedIn, csrf, async (ctx) => {
      const input = parse(ctx, form);
      if (!input) return page(ctx, 400, { section: contact, error: `account:${contact}.invalid` });
      const { app, account } = centerOf(ctx);
      const value = 'email' in input ? input.email : input.phone_number;
      if (!(await deps.selfService.requestChange(app, account, contact, value, { ip: ctx.state.ip as string | undefined }))) {
        return page(ctx, 429, { section: contact, error: 'account:code.too_many' });
      }
      await done(ctx, `account:${contact}.code_sent`, contact);
    });
    router.post(`/account/${contact}/verify`, signedIn, csrf, async (ctx) => {
      const input = parse(ctx, codeForm);
      if (!input) return page(ctx, 400, { section: contact, error: 'account:code.invalid' });
      const { app, account } = centerOf(ctx);
      const result = await deps.selfService.confirmChange(app, account, contact, input.code, { ip: ctx.state.ip as string | undefined });
      if (result === 'wrong') return page(ctx, 400, { section: contact, error: 'account:code.wrong' });
      if (result === 'expired') return page(ctx, 400, { section: contact, error: 'account:code.expired' });
      if (result === 'taken') return page(ctx, 409, { section: contact, error: `account:${contact}.taken` });
      await done(ctx, `account:${contact}.changed`, contact);
    });
  }

  router.post('/account/password', signedIn, csrf, async (ctx) => {
    const input = parse(ctx, passwordForm);
    if (!input) return page(ctx, 400, { section: 'password', error: 'account:password.invalid' });
    if (input.new_password !== input.new_password_confirm) return page(ctx, 400, { section: 'password', error: 'account:password.mismatch' });
    const center = centerOf(ctx);
    const result = await deps.selfService.changePassword(center.app, center.account, {
      current: input.current_password || undefined, next: input.new_password, keepSessions: input.keep_sessions === 'yes',
    }, { ip: ctx.state.ip as string | undefined, authTime: center.session.authTime, currentSession: center.currentSession });
    if (result !== 'changed') return page(ctx, 400, { section: 'password', error: `account:password.${result}` });
    await done(ctx, 'account:password.changed', 'password');
  });

  // Security: remove a factor; add one through the sign-in's own enrolment (a step-up to two factors, OIDC Core
  // §3.1.2.1 acr_values), which enrols a person who has none.
  router.post('/account/factors/:factor/remove', signedIn, csrf, async (ctx) => {
    const { app, account } = centerOf(ctx);
    const factor = recordIdOrNotFound(ctx.params.factor);
    if (!recentlySignedIn(centerOf(ctx))) return page(ctx, 403, { section: 'security', error: 'account:security.reauthenticate' });
    if (!(await deps.factors.remove(app, account.id, factor, 'account'))) throw new NotFoundError('No such factor for this account.');
    await done(ctx, 'account:security.removed', 'security');
  });
  // Signing in again (prompt=login, OIDC Core §3.1.2.1) renews auth_time for the changes that need a recent sign-in.
  router.post('/account/reauthenticate', signedIn, csrf, async (ctx) => {
    await startLogin(ctx, centerOf(ctx).pooled, { prompt: 'login' });
  });
  router.post('/account/security/enrol', signedIn, csrf, async (ctx) => {
    await startLogin(ctx, centerOf(ctx).pooled, { acr_values: ACR_MFA, prompt: 'login' });
  });
  // A passkey registered right here (WebAuthn Level 3 §7.1), the ceremony's challenge bound to this center session.
  // The account's first factor comes with recovery codes, shown once, as at enrolment during sign-in.
  router.post('/account/security/passkey', signedIn, csrf, async (ctx) => {
    const center = centerOf(ctx);
    const { app, account } = center;
    if (!offersPasskeys(app)) throw new NotFoundError('Passkeys are not offered in this app.');
    if (!recentlySignedIn(center)) return page(ctx, 403, { section: 'security', error: 'account:security.reauthenticate' });
    const input = parse(ctx, passkeyForm);
    if (!input) return page(ctx, 400, { section: 'security', error: 'account:security.passkey_refused' });
    const ip = ctx.state.ip as string | undefined;
    try {
      await deps.factors.webauthn.register(app, account.id, center.id, input.response, input.name || 'Passkey', ip);
    } catch (error) {
      if (!(error instanceof PasskeyRefused)) throw error;
      return page(ctx, 400, { section: 'security', error: 'account:security.passkey_refused' });
    }
    const recoveryCodes = (await deps.factors.hasRecoveryCodes(app, account.id)) ? undefined : await deps.factors.regenerateRecoveryCodes(app, account.id, ip);
    await done(ctx, 'account:security.passkey_added', 'security', { recoveryCodes });
  });
  // New recovery codes: the old set stops working at once (a person who used or lost some starts again).
  router.post('/account/security/recovery-codes', signedIn, csrf, async (ctx) => {
    const center = centerOf(ctx);
    const { app, account } = center;
    if (!(await deps.factors.hasRecoveryCodes(app, account.id))) throw new NotFoundError('This account has no recovery codes.');
    if (!recentlySignedIn(center)) return page(ctx, 403, { section: 'security', error: 'account:security.reauthenticate' });
    const recoveryCodes = await deps.factors.regenerateRecoveryCodes(app, account.id, ctx.state.ip as string | undefined);
    await done(ctx, 'account:security.recovery_renewed', 'security', { recoveryCodes });
  });
  // An authenticator app (RFC 6238) set up right here: the secret pending for this center session, confirmed by a code
  // from the app; wrong codes count towards the same lockout as at sign-in.
  router.post('/account/security/totp', signedIn, csrf, async (ctx) => {
    const center = centerOf(ctx);
    const { app, account } = center;
    if (!offersTotp(app)) throw new NotFoundError('Authenticator apps are not offered in this app.');
    if (!recentlySignedIn(center)) return page(ctx, 403, { section: 'security', error: 'account:security.reauthenticate' });
    const input = parse(ctx, codeForm);
    if (!input) return page(ctx, 400, { section: 'security', error: 'account:code.invalid' });
    const result = await deps.factors.confirmTotp(app, account.id, center.id, input.code, ctx.state.ip as string | undefined);
    if (result.status === 'locked') return page(ctx, 429, { section: 'security', error: 'account:security.totp_locked' });
    if (result.status === 'expired') return page(ctx, 400, { section: 'security', error: 'account:security.totp_expired' });
    if (result.status === 'wrong') return page(ctx, 400, { section: 'security', error: 'account:code.wrong' });
    await done(ctx, 'account:security.totp_added', 'security', { recoveryCodes: result.recoveryCodes });
  });

  router.post('/account/sessions/:sid/end', signedIn, csrf, async (ctx) => {
    const center = centerOf(ctx);
    const sid = recordIdOrNotFound(ctx.params.sid);
    if (!(await deps.offboarding.endSession(center.app, center.account.id, sid, { by: 'account', ip: ctx.state.ip as string | undefined }))) throw new NotFoundError('No such session for this account.');
    // Signing out this device ends the center's own sign-in with it: the next page signs in again.
    await done(ctx, 'account:sessions.ended', 'sessions');
  });
  router.post('/account/sessions/end-others', signedIn, csrf, async (ctx) => {
    const center = centerOf(ctx);
    await deps.offboarding.signOutEverywhere(center.app, center.account.id, { by: 'account', ip: ctx.state.ip as string | undefined }, center.currentSession ?? '');
    await done(ctx, 'account:sessions.ended_others', 'sessions');
  });

  router.post('/account/grants/:grant/revoke', signedIn, csrf, async (ctx) => {
    const { app, account } = centerOf(ctx);
    const grant = recordIdOrNotFound(ctx.params.grant);
    if (!(await deps.offboarding.revokeGrant(app, account.id, grant, { by: 'account', ip: ctx.state.ip as string | undefined }))) throw new NotFoundError('No such connected app for this account.');
    await done(ctx, 'account:apps.revoked', 'connected');
  });

  router.post('/account/support-pin', signedIn, csrf, async (ctx) => {
    const { app, account } = centerOf(ctx);
    const { pin } = await deps.pins.generate(app, account.id, ctx.state.ip as string | undefined);
    await done(ctx, 'account:pin.made', 'support-pin', { pin });
  });

  router.get('/account/delete', signedIn, async (ctx) => {
    const { app, csrf: token } = centerOf(ctx);
    if (app.settings.self_service_deletion !== true) throw new NotFoundError('This app does not let accounts be deleted here.');
    const t = catalogue().translator(String(ctx.state.language));
    renderPage(ctx, 'account/delete', { app, title: t('account:delete.title'), csrf: token, base: base(app), problem: undefined });
  });
  router.post('/account/delete', signedIn, csrf, async (ctx) => {
    const { app, account, id, csrf: token } = centerOf(ctx);
    if (app.settings.self_service_deletion !== true) throw new NotFoundError('This app does not let accounts be deleted here.');
    const t = catalogue().translator(String(ctx.state.language));
    if (!parse(ctx, deleteForm)) return renderPage(ctx, 'account/delete', { app, title: t('account:delete.title'), csrf: token, base: base(app), problem: 'account:delete.confirm_required' }, { status: 400 });
    if (!recentlySignedIn(centerOf(ctx))) return renderPage(ctx, 'account/delete', { app, title: t('account:delete.title'), csrf: token, base: base(app), problem: 'account:security.reauthenticate' }, { status: 403 });
    await deps.offboarding.delete(app, account.id, { by: 'account', ip: ctx.state.ip as string | undefined });
    await deps.centerSessions.end(app.id, id);
    setCookie(ctx, app, CENTER_COOKIE, null);
    seeOther(ctx, `${base(app)}/deleted`);
  });
  router.get('/account/deleted', async (ctx) => {
    const { app } = await appOf(ctx);
    const t = catalogue().translator(chooseLanguage(catalogue().languages, { acceptLanguage: ctx.get('accept-language'), appDefault: app.settings.locale }));
    renderPage(ctx, 'account/deleted', { app, title: t('account:deleted.title') });
  });

  return router;
}

/** Ids in paths are oidc-provider or Portcullis ids; anything else is simply not found. */
function recordIdOrNotFound(value: string | undefined): string {
  const parsed = recordIdParam.safeParse(value);
  if (!parsed.success) throw new NotFoundError('Nothing at this address.');
  return parsed.data;
}

/** OIDC Core §4: a third party (here, the launcher) starts a client's sign-in at its initiate_login_uri with `iss`. */
function launchUrl(initiateLoginUri: string, issuer: string): string {
  const url = new URL(initiateLoginUri);
  url.searchParams.set('iss', issuer);
  return url.href;
}
