/**
 * Sign-in with an emailed link (when the app's login_methods include `magic_link`), NIST SP 800-63B §5.1.3
 * out-of-band authentication over email:
 *
 * - "Email me a sign-in link" answers the same whether or not the address belongs to an account (OWASP ASVS V2.2,
 *   no enumeration): unknown, opted-out and deactivated addresses simply get no message.
 * - The link `{PUBLIC_URL}/apps/{slug}/link/{token}` carries 32 random bytes; only their SHA-256 is stored, with the
 *   interaction it was asked from and the accounts it signs in to. Valid 10 minutes, single use, only the newest link
 *   of an interaction works; sends are rate-limited like codes.
 * - Opened in the browser that asked for it (its interaction cookie is present), the link completes that sign-in.
 *   Opened elsewhere, a page asks "Sign in on this device?"; confirming signs in that device through a login
 *   hand-off (`login-handoff.ts`) and leaves the first device's sign-in as it was. Opening alone never uses the link
 *   up, so mail scanners that fetch links do no harm.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { randomId, sha256 } from '../src/crypto/random.js';
import { readForm } from '../src/http/body.js';
import { PortcullisError, TooManyRequestsError } from '../src/http/errors.js';
import { LIMITS } from '../src/http/rate-limit.js';
import type { AccountRecord, AppRecord } from '../src/storage/ports.js';
import type { PooledProvider, ProviderPool } from '../src/provider/provider-pool.js';
import { assertCsrf, InteractionExpiredError, loadStep, redirectTo, renderStep, retry, saveState, type Step, type StepState } from './context.js';
import { continueSignIn } from './sign-in-sequence.js';
import { parseIdentifier, RESEND_AFTER_SECONDS, type CodeDeps } from './one-time-code.js';
import { assertBrowserLinkCsrf, browserLinkCsrf, LINK_TOKEN_PATTERN, loadApp, renderAppPage } from './emailed-link.js';
import { handOff, landingUri } from './login-handoff.js';

export const LINK_TTL_SECONDS = 600;

export type MagicLinkDeps = CodeDeps & { pool: ProviderPool };

interface StoredLink {
  /** The interaction the link was asked from. */
  uid: string;
  clientId: string;
  email: string;
  /** Accounts the link signs in to; empty for an unknown address (then no link was sent). */
  accountIds: string[];
}

/** The "check your email" page shows the address the link was asked for. */
type LinkState = StepState & { link?: { identifier: string } };

const sendForm = z.object({ _csrf: z.string().optional(), identifier: z.string().trim().min(1).max(320) });

const keys = (app: Pick<AppRecord, 'id'>, uid: string) => ({
  latest: `app:${app.id}:link-latest:${uid}`,
  resend: `app:${app.id}:link-resend:${uid}`,
});
const linkKey = (app: Pick<AppRecord, 'id'>, tokenHash: string) => `app:${app.id}:link:${tokenHash}`;

export class LinkInvalidError extends PortcullisError {
  constructor() {
    super(400, 'link_invalid', 'This sign-in link has expired or has already been used. Go back to the application and ask for a new one.');
  }
}

const eligible = (a: AccountRecord | undefined): a is AccountRecord => a !== undefined && a.status === 'active' && !a.optedOut;

export async function sendLink(step: Step, deps: CodeDeps): Promise<void> {
  const form = await readForm(step.ctx);
  assertCsrf(step, form);
  const parsed = sendForm.safeParse(form);
  if (!step.app.settings.login_methods.includes('magic_link')) return retry(step, { error: 'Choose how you want to sign in.' });
  const identifier = parsed.success ? parseIdentifier(parsed.data.identifier, 'email') : undefined;
  if (!identifier) return retry(step, { error: 'Enter a valid email address.', identifier: form.identifier?.slice(0, 320) });

  const k = keys(step.app, step.uid);
  const resending = (step.interaction.result as LinkState | undefined)?.link?.identifier === identifier;
  if (!(await deps.ephemeral.setIfAbsent(k.resend, 1, RESEND_AFTER_SECONDS))) {
    return retry(step, { error: `Please wait ${RESEND_AFTER_SECONDS} seconds before asking for another link.`, identifier }, resending ? `${step.basePath}/link` : step.basePath);
  }
  try {
    await deps.limiter.hit(step.app.id, LIMITS.sendsPerIp(deps.ipPerHour), step.ctx.state.ip);
    await deps.limiter.hit(step.app.id, LIMITS.sendsPerIdentifier, identifier);
  } catch (err) {
    if (!(err instanceof TooManyRequestsError)) throw err;
    return retry(step, { error: 'Too many sign-in links were requested. Please try again later.', identifier });
  }

  const accounts = (await deps.accounts.findByEmail(step.app, identifier)).filter(eligible);
  const token = randomId(32);
  const tokenHash = sha256(token);
  const stored: StoredLink = { uid: step.uid, clientId: step.client.clientId, email: identifier, accountIds: accounts.map((a) => a.id) };
  // Only the newest link of this sign-in works: the previous one is deleted.
  const previous = await deps.ephemeral.get<string>(k.latest);
  await Promise.all([
    deps.ephemeral.set(linkKey(step.app, tokenHash), stored, LINK_TTL_SECONDS),
    deps.ephemeral.set(k.latest, tokenHash, LINK_TTL_SECONDS),
    previous ? deps.ephemeral.delete(linkKey(step.app, previous)) : undefined,
  ]);
  if (accounts.length > 0) {
    // Built from the issuer, i.e. PUBLIC_URL, never from the request's Host header. Not awaited: the answer must not
    // take longer for a known address. send() never rejects.
    const link = `${step.provider.issuer}/link/${token}`;
    void deps.messenger.send(step.app, { channel: 'email', to: identifier, kind: 'magic_link', locals: { link, validMinutes: LINK_TTL_SECONDS / 60 }, locale: accounts[0].locale });
  }
  await deps.audit.record(step.app, 'sign_in.link_requested', { ip: step.ctx.state.ip });
  await saveState(step, { link: { identifier }, flash: undefined } as LinkState);
  redirectTo(step, `${step.basePath}/link`);
}

/** "Check your email". */
export function renderLinkSentPage(step: Step): void {
  const link = (step.interaction.result as LinkState | undefined)?.link;
  if (!link) return redirectTo(step, step.basePath);
  renderStep(step, 'link-sent', { title: 'Check your email', identifier: link.identifier, validMinutes: LINK_TTL_SECONDS / 60, resendAfter: RESEND_AFTER_SECONDS });
}

async function findLink(pooled: PooledProvider, deps: MagicLinkDeps, token: string): Promise<StoredLink> {
  if (!LINK_TOKEN_PATTERN.test(token)) throw new LinkInvalidError();
  const stored = await deps.ephemeral.get<StoredLink>(linkKey(pooled.app, sha256(token)));
  if (!stored || stored.accountIds.length === 0) throw new LinkInvalidError();
  return stored;
}

/** Uses the link up (single use) and returns the accounts it still signs in to. */
async function redeem(app: AppRecord, deps: MagicLinkDeps, token: string, ip: string | undefined): Promise<StoredLink> {
  const stored = await deps.ephemeral.take<StoredLink>(linkKey(app, sha256(token)));
  if (!stored) throw new LinkInvalidError();
  const accounts = (await Promise.all(stored.accountIds.map((id) => deps.accounts.find(app, id)))).filter(eligible);
  if (accounts.length === 0) throw new LinkInvalidError();
  // Receiving the link proves control of the address (OIDC Core §5.1 email_verified).
  await Promise.all(accounts.map((a) => deps.accounts.markVerified(app, a.id, 'email')));
  await deps.audit.record(app, 'sign_in.link_used', { ip });
  return { ...stored, accountIds: accounts.map((a) => a.id) };
}

/**
 * GET `/apps/{slug}/link/{token}`: the interaction cookie is scoped to the interaction's path, so the browser is
 * sent there (303) to find out whether it is the one that asked for the link.
 */
export async function openLink(ctx: Context, deps: MagicLinkDeps): Promise<void> {
  const pooled = await loadApp(ctx, deps.pool);
  const { token } = ctx.params as { token: string };
  const stored = await findLink(pooled, deps, token);
  ctx.status = 303;
  ctx.redirect(`/apps/${pooled.app.slug}/interaction/${stored.uid}/link/${token}`);
}

/**
 * GET `/apps/{slug}/interaction/{uid}/link/{token}`: in the browser whose interaction asked for the link, signs in
 * (amr `email`, RFC 8176); in any other browser, asks to confirm signing in on this device.
 */
export async function openLinkInInteraction(ctx: Context, deps: MagicLinkDeps): Promise<void> {
  const pooled = await loadApp(ctx, deps.pool);
  const { token, uid } = ctx.params as { token: string; uid: string };
  const stored = await findLink(pooled, deps, token);
  if (stored.uid !== uid) throw new LinkInvalidError();
  let step: Step | undefined;
  try {
    step = await loadStep(ctx, deps.pool);
  } catch (err) {
    if (!(err instanceof InteractionExpiredError)) throw err;
  }
  if (!step) {
    const landing = await landingUri(pooled, stored.clientId, stored.email);
    return renderAppPage(ctx, pooled, 'link-confirm', {
      title: 'Sign in on this device?',
      csrf: browserLinkCsrf(ctx, pooled, 'link', token),
      action: `/apps/${pooled.app.slug}/link/${token}`,
    }, { formTargets: landing ? [new URL(landing).origin] : [] });
  }
  const redeemed = await redeem(step.app, deps, token, ctx.state.ip);
  return continueSignIn(step, deps, { accountIds: redeemed.accountIds, amr: ['email'], fresh: true }, 'redirect');
}

/**
 * POST `/apps/{slug}/link/{token}` ("Sign in on this device"): uses the link up and signs in this browser through a
 * login hand-off, landing on the client's `initiate_login_uri` (OIDC Core §4). The sign-in the link was asked from,
 * on the other device, stays where it was.
 */
export async function confirmLinkOnThisDevice(ctx: Context, deps: MagicLinkDeps): Promise<void> {
  const pooled = await loadApp(ctx, deps.pool);
  const { token } = ctx.params as { token: string };
  const form = await readForm(ctx);
  assertBrowserLinkCsrf(ctx, pooled, 'link', token, form);
  if (!LINK_TOKEN_PATTERN.test(token)) throw new LinkInvalidError();
  const redeemed = await redeem(pooled.app, deps, token, ctx.state.ip);
  await handOff(ctx, pooled, deps.ephemeral, { accountIds: redeemed.accountIds, amr: ['email'], clientId: redeemed.clientId, reason: 'magic_link' }, redeemed.email);
}
