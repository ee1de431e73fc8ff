/**
 * Password reset by emailed link (OWASP ASVS v4.0.3 V2.5 credential recovery, NIST SP 800-63B §6.1.2.3 and the
 * OWASP Forgot Password Cheat Sheet):
 *
 * - "Forgot password?" (inside the sign-in interaction) answers with the same 303 and the same page, in the same
 *   time, whether or not the email has an account; the lookup's outcome only decides, in the background, whether
 *   links are sent (Forgot Password Cheat Sheet: consistent message and timing, no enumeration). Sends are capped
 *   per email and per IP (ASVS V2.2.1 anti-automation).
 * - Each active account with the email gets its own link: a random 256-bit token, stored only as its SHA-256 in the
 *   ephemeral store for 30 minutes, single use (taken atomically), and void once the account's password was reset
 *   through another link. Links are built from PUBLIC_URL, never from the request's Host header.
 * - The link's page may be opened on any device (it belongs to no interaction); its CSRF token is bound to the link.
 * - A reset sets the new password, ends every session and revokes every grant and token of the account (ASVS
 *   V3.3.3), notifies the address (ASVS V2.5.5), and does not sign the person in: they sign in again.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Logger } from '../src/log.js';
import type { AccountRecord, AppRecord } from '../src/storage/ports.js';
import { PASSWORD_MAX, PASSWORD_MIN, passwordProblem } from '../src/accounts/password.js';
import { randomId, sha256 } from '../src/crypto/random.js';
import { readForm } from '../src/http/body.js';
import { LIMITS } from '../src/http/rate-limit.js';
import { NotFoundError, TooManyRequestsError } from '../src/http/errors.js';
import type { PooledProvider, ProviderPool } from '../src/provider/provider-pool.js';
import { assertCsrf, redirectTo, renderStep, retry, type Step } from './context.js';
import { parseIdentifier, type CodeDeps } from './one-time-code.js';
import { assertLinkCsrf, linkCsrf, LINK_TOKEN_PATTERN, loadApp, renderAppPage } from './emailed-link.js';

/** How long a reset link works (the `password_reset` message says 30 minutes). */
export const RESET_TTL_SECONDS = 30 * 60;

export interface ResetDeps extends CodeDeps {
  pool: ProviderPool;
  /** PUBLIC_URL: the only source of the links' origin. */
  publicUrl: URL;
  log: Pick<Logger, 'error'>;
}

interface StoredReset {
  accountId: string;
  /** The client whose sign-in page asked for the link: the "done" page links back to it. */
  clientId?: string;
  /** Milliseconds since the epoch. */
  issuedAt: number;
}

const CSRF_PURPOSE = 'reset';
const forgotForm = z.object({ _csrf: z.string().optional(), identifier: z.string().trim().min(1).max(320) });
const resetForm = z.object({
  _csrf: z.string().optional(),
  new_password: z.string().max(PASSWORD_MAX * 4),
  new_password_confirm: z.string().max(PASSWORD_MAX * 4),
});

const tokenKey = (app: Pick<AppRecord, 'id'>, token: string) => `app:${app.id}:reset:${sha256(token)}`;
/** When the account's password was last reset by link: links issued before then are void. */
const resetAtKey = (app: Pick<AppRecord, 'id'>, accountId: string) => `app:${app.id}:reset-at:${accountId}`;

/** The reset link, from PUBLIC_URL only (a Host header chosen by an attacker never ends up in an email). */
export function resetLink(publicUrl: URL, slug: string, token: string): string {
  return new URL(`/apps/${slug}/reset/${token}`, publicUrl).href;
}

function ensurePasswordSignIn(step: Step): void {
  if (!step.app.settings.login_methods.includes('password')) throw new NotFoundError('This app does not use passwords.');
}

// ——— "Forgot password?" inside the interaction ———

export function renderForgot(step: Step): void {
  ensurePasswordSignIn(step);
  renderStep(step, 'forgot', { title: 'Reset your password', sent: false, identifier: step.flash?.identifier ?? '', validMinutes: RESET_TTL_SECONDS / 60 });
}

/** The page after the request: the same for every address (no identifier shown, nothing that depends on it). */
export function renderForgotSent(step: Step): void {
  ensurePasswordSignIn(step);
  renderStep(step, 'forgot', { title: 'Check your email', sent: true, identifier: '', validMinutes: RESET_TTL_SECONDS / 60 });
}

export async function requestReset(step: Step, deps: ResetDeps): Promise<void> {
  ensurePasswordSignIn(step);
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  const here = `${step.basePath}/forgot`;
  const parsed = forgotForm.safeParse(form);
  const email = parsed.success ? parseIdentifier(parsed.data.identifier, 'email') : undefined;
  if (!email) return retry(step, { error: 'Enter a valid email address.', identifier: form.identifier?.slice(0, 320) }, here);
  try {
    await deps.limiter.hit(step.app.id, LIMITS.sendsPerIp(deps.ipPerHour), step.ctx.state.ip);
    await deps.limiter.hit(step.app.id, LIMITS.sendsPerIdentifier, email);
  } catch (err) {
    if (!(err instanceof TooManyRequestsError)) throw err;
    return retry(step, { error: 'Too many reset emails were requested. Please try again later.', identifier: email }, here);
  }
  const accounts = (await deps.accounts.findByEmail(step.app, email)).filter((a) => a.status === 'active' && !a.optedOut);
  // Not awaited: storing tokens and sending happen only for known addresses, so the answer must not wait for them.
  const context = { app: step.app, clientId: step.client.clientId, ip: step.ctx.state.ip as string | undefined };
  void issueLinks(deps, context, accounts).catch((err: unknown) => deps.log.error({ err, app: step.app.slug }, 'could not issue password reset links'));
  redirectTo(step, `${here}/sent`);
}

async function issueLinks(deps: ResetDeps, context: { app: AppRecord; clientId: string; ip?: string }, accounts: AccountRecord[]): Promise<void> {
  const { app } = context;
  for (const account of accounts) {
    if (!account.email) continue;
    const token = randomId(32);
    const stored: StoredReset = { accountId: account.id, clientId: context.clientId, issuedAt: Date.now() };
    await deps.ephemeral.set(tokenKey(app, token), stored, RESET_TTL_SECONDS);
    await deps.messenger.send(app, {
      channel: 'email',
      to: account.email,
      kind: 'password_reset',
      locals: { link: resetLink(deps.publicUrl, app.slug, token), validMinutes: RESET_TTL_SECONDS / 60 },
      locale: account.locale,
    });
    await deps.audit.record(app, 'password.reset_requested', { accountId: account.id, ip: context.ip, detail: { client_id: context.clientId } });
  }
}

// ——— The emailed link: /apps/{slug}/reset/{token}, outside any interaction ———

interface OpenReset {
  stored: StoredReset;
  account: AccountRecord;
}

/** The link's record and account, or undefined when the link is malformed, expired, used or void. */
async function findReset(deps: ResetDeps, app: AppRecord, token: string, read: 'peek' | 'take'): Promise<OpenReset | undefined> {
  if (!LINK_TOKEN_PATTERN.test(token)) return undefined;
  const key = tokenKey(app, token);
  const stored = read === 'take' ? await deps.ephemeral.take<StoredReset>(key) : await deps.ephemeral.get<StoredReset>(key);
  if (!stored) return undefined;
  const resetAt = await deps.ephemeral.get<number>(resetAtKey(app, stored.accountId));
  if (resetAt !== undefined && stored.issuedAt <= resetAt) return undefined;
  const account = await deps.accounts.find(app, stored.accountId);
  if (!account || account.status !== 'active') return undefined;
  return { stored, account };
}

function renderExpired(ctx: Context, pooled: PooledProvider): void {
  renderAppPage(ctx, pooled, 'error', {
    title: 'This link has expired',
    error: 'link_expired',
    description: 'This link has expired or was already used. Go back to the application and ask for a new one from its sign-in page.',
  }, { status: 400 });
}

function renderResetForm(ctx: Context, pooled: PooledProvider, token: string, account: AccountRecord, error?: string): void {
  renderAppPage(ctx, pooled, 'reset', {
    title: 'Choose a new password',
    csrf: linkCsrf(pooled.provider, CSRF_PURPOSE, token),
    action: `/apps/${pooled.app.slug}/reset/${token}`,
    account: { email: account.email ?? '', name: account.name ?? '' },
    minLength: PASSWORD_MIN,
    maxLength: PASSWORD_MAX,
    error,
  }, { status: error ? 400 : 200 });
}

/** Where the "password changed" page sends the person: the client's or the app's landing page, when it has one. */
async function placeToGo(pooled: PooledProvider, clientId: string | undefined): Promise<{ name: string; uri: string } | undefined> {
  if (clientId) {
    const client = await pooled.provider.Client.find(clientId).catch(() => undefined);
    const uri = client?.metadata().initiate_login_uri;
    if (client && typeof uri === 'string') return { name: String(client.metadata().client_name ?? pooled.app.name), uri };
  }
  const landing = pooled.app.settings.invitation_landing_uri;
  return landing ? { name: pooled.app.name, uri: landing } : undefined;
}

export function resetRouter(deps: ResetDeps): Router {
  const router = new Router({ prefix: '/apps/:slug/reset' });

  // Before `/:token`: "done" can never be a token (tokens are 43 characters).
  router.get('/done', async (ctx) => {
    const pooled = await loadApp(ctx, deps.pool);
    const clientId = typeof ctx.query.client_id === 'string' ? ctx.query.client_id.slice(0, 200) : undefined;
    renderAppPage(ctx, pooled, 'reset-done', { title: 'Password changed', next: await placeToGo(pooled, clientId) });
  });

  router.get('/:token', async (ctx) => {
    const pooled = await loadApp(ctx, deps.pool);
    const token = String(ctx.params.token);
    const found = await findReset(deps, pooled.app, token, 'peek');
    if (!found) return renderExpired(ctx, pooled);
    renderResetForm(ctx, pooled, token, found.account);
  });

  router.post('/:token', async (ctx) => {
    const pooled = await loadApp(ctx, deps.pool);
    const { app, provider } = pooled;
    const token = String(ctx.params.token);
    const form = await readForm(ctx);
    assertLinkCsrf(provider, CSRF_PURPOSE, token, form);
    const peeked = await findReset(deps, app, token, 'peek');
    if (!peeked) return renderExpired(ctx, pooled);
    const parsed = resetForm.safeParse(form);
    const problem = !parsed.success
      ? 'Enter your new password twice.'
      : passwordProblem(parsed.data.new_password) ?? (parsed.data.new_password !== parsed.data.new_password_confirm ? 'The two passwords do not match.' : undefined);
    // A typo does not use the link up: it is taken only once the new password is acceptable.
    if (problem || !parsed.success) return renderResetForm(ctx, pooled, token, peeked.account, problem);

    const found = await findReset(deps, app, token, 'take');
    if (!found) return renderExpired(ctx, pooled);
    const { account, stored } = found;
    await deps.accounts.setPassword(app, account.id, parsed.data.new_password);
    // Links issued before now (another email of the same request) stop working.
    await deps.ephemeral.set(resetAtKey(app, account.id), Date.now(), RESET_TTL_SECONDS);
    // Opening the link proves control of the address (OIDC Core §5.1 email_verified).
    if (!account.emailVerified) await deps.accounts.markVerified(app, account.id, 'email');
    await deps.accounts.endAllSignIns(app, account.id);
    if (account.email) {
      // A locked-out person can sign in with the new password at once.
      await deps.limiter.reset(app.id, LIMITS.passwordPerIdentifier, account.email);
      void deps.messenger.send(app, { channel: 'email', to: account.email, kind: 'password_changed', locals: {}, locale: account.locale });
    }
    await deps.audit.record(app, 'password.reset', {
      accountId: account.id,
      ip: ctx.state.ip,
      detail: { sessions_ended: true },
    });
    ctx.status = 303;
    ctx.redirect(`/apps/${app.slug}/reset/done${stored.clientId ? `?client_id=${encodeURIComponent(stored.clientId)}` : ''}`);
  });

  return router;
}
