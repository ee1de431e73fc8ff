/**
 * Password reset by emailed link (OWASP ASVS V2.5 credential recovery, NIST SP 800-63B §6.1.2.3, OWASP Forgot
 * Password Cheat Sheet):
 *
 * - "Forgot password?" answers with the same 303 and page, in the same time, whether or not the email has an
 *   account; the lookup only decides, in the background, whether links are sent. Sends are capped per email and IP.
 * - Each active account with the email gets its own link: 256 random bits, stored only as SHA-256, valid
 *   `lifetimes.passwordReset`, single use (taken atomically), void once the account's password was reset through
 *   another link. Links are built from PUBLIC_URL, never from the request's Host header.
 * - The link's page may be opened on any device (it belongs to no attempt).
 * - A reset sets the new password, ends every session and token of the account (ASVS V3.3.3), notifies the address
 *   (ASVS V2.5.5), and does not sign the person in: they sign in again.
 */
import { z } from 'zod';
import { mayReceiveSignInMessages } from '../../accounts/account-service.js';
import { PASSWORD_MAX, PASSWORD_MIN, typedPasswordSchema } from '../../accounts/password-policy.js';
import { passwordProblemText, passwordText } from '../password-text.js';
import type { Text } from '../../i18n/text.js';
import { randomId, sha256 } from '../../crypto/random.js';
import { NotFoundError } from '../../errors.js';
import { LIMITS } from '../../limits/rate-limiter.js';
import type { AccountRecord, AppRecord, TenantRecord } from '../../storage/ports.js';
import { shortLivedKey } from '../../storage/short-lived-keys.js';
import { again, go, page, type AppVisit, type Attempt, type Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { identifierField, INVALID_IDENTIFIER, limitSends, parseIdentifier } from '../identifier.js';
import { placeToGo } from '../landing.js';
import { LINK_TOKEN_PATTERN } from '../link-token.js';

export const passwordResetMethod: SignInMethod = {
  id: 'password_reset',
  identifier: 'email',
  // A reset proves the address but signs nobody in.
  amr: [],
  secondFactor: false,
  enabled: (app) => app.settings.login_methods.includes('password'),
  views: ['forgot', 'reset', 'reset-done'],
};

interface StoredReset {
  accountId: string;
  /** The client whose sign-in page asked for the link: the "done" page links back to it. */
  clientId?: string;
  /**
   * The tenant of the sign-in that asked for the link (its brand: `tenant=` or the chosen organisation): the link's
   * pages and the "password changed" email wear its brand. Absent on links issued before it was recorded.
   */
  tenantId?: string;
  /** Milliseconds since the epoch. */
  issuedAt: number;
}

export const forgotForm = z.object({ identifier: identifierField });
export const invalidForgotForm = (raw: Record<string, string>): Outcome => again({ error: INVALID_IDENTIFIER.email, identifier: raw.identifier?.slice(0, 320) }, '/forgot');
export const resetForm = z.object({ new_password: typedPasswordSchema, new_password_confirm: typedPasswordSchema });

type Deps = Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'limiter' | 'messenger' | 'ephemeral' | 'lifetimes' | 'ipPerHour' | 'publicUrl' | 'log'>;

const tokenKey = (appId: string, token: string) => shortLivedKey(appId, 'reset', sha256(token));
/** When the account's password was last reset by link: links issued before then are void. */
const resetAtKey = (appId: string, accountId: string) => shortLivedKey(appId, 'reset-at', accountId);

/** The reset link, from PUBLIC_URL only (a Host header chosen by an attacker never ends up in an email). */
export function resetLink(publicUrl: URL, slug: string, token: string): string {
  return new URL(`/apps/${slug}/reset/${token}`, publicUrl).href;
}

function ensurePasswords(app: AppRecord): void {
  if (!passwordResetMethod.enabled(app)) throw new NotFoundError('This app does not use passwords.');
}

// ——— "Forgot password?" inside the attempt ———

export function forgotPage(attempt: Attempt, deps: Pick<Deps, 'lifetimes'>, sent: boolean): Outcome {
  ensurePasswords(attempt.app);
  // After the request the page is the same for every address (nothing on it depends on the address).
  return page('forgot', {
    title: sent ? 'sign-in:title.check_email' : 'sign-in:forgot.title',
    sent,
    identifier: sent ? '' : attempt.flash?.identifier ?? '',
    validMinutes: deps.lifetimes.passwordReset / 60,
  });
}

export async function requestReset(attempt: Attempt, deps: Deps, input: z.output<typeof forgotForm>): Promise<Outcome> {
  ensurePasswords(attempt.app);
  const email = parseIdentifier(input.identifier, 'email');
  if (!email) return invalidForgotForm(input);
  if (await limitSends(deps.limiter, attempt.app.id, deps.ipPerHour, attempt.ip, email)) {
    return again({ error: 'sign-in:error.too_many_resets', identifier: email }, '/forgot');
  }
  const accounts = (await deps.accounts.findByEmail(attempt.app, email)).filter(mayReceiveSignInMessages);
  // Not awaited: storing tokens and sending happen only for known addresses, so the answer must not wait for them.
  const context = { app: attempt.app, clientId: attempt.client.clientId, ip: attempt.ip, language: attempt.language, tenant: attempt.brandTenant };
  void issueLinks(deps, context, accounts).catch((err: unknown) => deps.log.error({ err, app: attempt.app.slug }, 'could not issue password reset links'));
  return go('/forgot/sent');
}

async function issueLinks(deps: Deps, context: { app: AppRecord; clientId: string; ip?: string; language?: string; tenant?: TenantRecord }, accounts: AccountRecord[]): Promise<void> {
  const { app } = context;
  for (const account of accounts) {
    if (!account.email) continue;
    const token = randomId(32);
    const stored: StoredReset = { accountId: account.id, clientId: context.clientId, tenantId: context.tenant?.id, issuedAt: Date.now() };
    await deps.ephemeral.set(tokenKey(app.id, token), stored, deps.lifetimes.passwordReset);
    await deps.messenger.send(app, {
      channel: 'email', to: account.email, kind: 'password_reset', locals: { link: resetLink(deps.publicUrl, app.slug, token) },
      locale: account.locale ?? context.language, brandTenant: context.tenant,
    });
    await deps.audit.record(app, 'password.reset_requested', { accountId: account.id, ip: context.ip, detail: { client_id: context.clientId } });
  }
}

// ——— The emailed link: /apps/{slug}/reset/{token}, outside any attempt ———

interface OpenReset {
  stored: StoredReset;
  account: AccountRecord;
}

/** The link's record and account, or undefined when the link is malformed, expired, used or void. */
async function findReset(deps: Deps, app: AppRecord, token: string, read: 'peek' | 'take'): Promise<OpenReset | undefined> {
  if (!LINK_TOKEN_PATTERN.test(token)) return undefined;
  const key = tokenKey(app.id, token);
  const stored = read === 'take' ? await deps.ephemeral.take<StoredReset>(key) : await deps.ephemeral.get<StoredReset>(key);
  if (!stored) return undefined;
  const [resetAt, account] = await Promise.all([deps.ephemeral.get<number>(resetAtKey(app.id, stored.accountId)), deps.accounts.find(app, stored.accountId)]);
  if (resetAt !== undefined && stored.issuedAt <= resetAt) return undefined;
  if (!account || account.status !== 'active') return undefined;
  return { stored, account };
}

const expiredPage = (): Outcome => page('error', {
  title: 'sign-in:reset.expired_title',
  error: 'link_expired',
  description: 'sign-in:reset.expired',
}, 400);

function resetFormPage(visit: AppVisit, token: string, { account, stored }: OpenReset, error?: Text): Outcome {
  return page('reset', {
    title: 'sign-in:reset.title',
    action: `/apps/${visit.app.slug}/reset/${token}`,
    account: { email: account.email ?? '', name: account.name ?? '' },
    minLength: PASSWORD_MIN,
    maxLength: PASSWORD_MAX,
    error,
  }, error ? 400 : 200, stored.tenantId);
}

export async function openReset(visit: AppVisit, deps: Deps, token: string): Promise<Outcome> {
  const found = await findReset(deps, visit.app, token, 'peek');
  return found ? resetFormPage(visit, token, found) : expiredPage();
}

export async function completeReset(visit: AppVisit, deps: Deps, token: string, input: z.output<typeof resetForm> | undefined): Promise<Outcome> {
  const { app } = visit;
  const peeked = await findReset(deps, app, token, 'peek');
  if (!peeked) return expiredPage();
  const problem = !input
    ? 'sign-in:password.twice'
    : passwordProblemText(input.new_password, { email: peeked.account.email, appName: app.name })
      ?? (input.new_password !== input.new_password_confirm ? passwordText('mismatch') : undefined);
  // A typo does not use the link up: it is taken only once the new password is acceptable.
  if (problem || !input) return resetFormPage(visit, token, peeked, problem);

  const found = await findReset(deps, app, token, 'take');
  if (!found) return expiredPage();
  const { account, stored } = found;
  await deps.accounts.setPassword(app, account.id, input.new_password);
  // Links issued before now (another email of the same request) stop working.
  await deps.ephemeral.set(resetAtKey(app.id, account.id), Date.now(), deps.lifetimes.passwordReset);
  // Opening the link proves control of the address (OIDC Core §5.1 email_verified).
  if (!account.emailVerified) await deps.accounts.markVerified(app, account.id, 'email');
  await deps.accounts.endAllSignIns(app, account.id);
  if (account.email) {
    // A locked-out person can sign in with the new password at once (from anywhere).
    await deps.limiter.reset(app.id, LIMITS.passwordPerIdentifier, account.email);
    await deps.limiter.reset(app.id, LIMITS.passwordPerIdentifierAndIp, `${account.email}|${visit.ip ?? 'unknown'}`);
    const tenant = stored.tenantId ? await deps.tenants.find(app, stored.tenantId) : undefined;
    void deps.messenger.send(app, { channel: 'email', to: account.email, kind: 'password_changed', locals: {}, locale: account.locale, brandTenant: tenant });
  }
  await deps.audit.record(app, 'password.reset', { accountId: account.id, ip: visit.ip, detail: { sessions_ended: true } });
  const done = new URLSearchParams({ ...(stored.clientId ? { client_id: stored.clientId } : {}), ...(stored.tenantId ? { tenant: stored.tenantId } : {}) });
  return { kind: 'redirect', to: `/apps/${app.slug}/reset/done${done.size ? `?${done}` : ''}` };
}

/**
 * "Password changed": links to the client's or the app's landing page, when it has one, and wears the brand of the
 * tenant the link was asked for (`tenant=` of the address: only a brand, so naming another one shows nothing more).
 */
export async function resetDonePage(visit: AppVisit, clientId: string | undefined, tenantId?: string): Promise<Outcome> {
  return page('reset-done', { title: 'sign-in:reset.done_title', next: await placeToGo(visit, clientId) }, undefined, tenantId);
}
