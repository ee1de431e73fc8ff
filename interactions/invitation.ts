/**
 * The page an invitation email links to, `/apps/{slug}/invitation/{token}` (outside any interaction):
 * GET shows it (choose a password, or just confirm when the app does not sign in with passwords or the account
 * already has one) and never uses the link up; POST accepts the invitation once and signs the person in through a
 * login hand-off to the client's `initiate_login_uri` or the app's `invitation_landing_uri` (OIDC Core §4).
 * Errors on the form come back through a 303 and a one-shot message (post/redirect/get).
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN } from '../src/accounts/password.js';
import { sha256 } from '../src/crypto/random.js';
import { readForm } from '../src/http/body.js';
import { TooManyRequestsError } from '../src/http/errors.js';
import { LIMITS, type RateLimiter } from '../src/http/rate-limit.js';
import type { InvitationService } from '../src/invitations/invitation-service.js';
import type { AppRecord, EphemeralStore } from '../src/storage/ports.js';
import type { ProviderPool } from '../src/provider/provider-pool.js';
import { assertBrowserLinkCsrf, browserLinkCsrf, loadApp, renderAppPage } from './emailed-link.js';
import { handOff, landingUri } from './login-handoff.js';

export interface InvitationPageDeps {
  pool: ProviderPool;
  invitations: InvitationService;
  ephemeral: EphemeralStore;
  limiter: RateLimiter;
  ipPerHour: number;
}

const FLASH_TTL_SECONDS = 120;
const PURPOSE = 'invitation';

const acceptForm = z.object({
  _csrf: z.string().optional(),
  new_password: z.string().max(PASSWORD_MAX * 4).optional(),
  new_password_confirm: z.string().max(PASSWORD_MAX * 4).optional(),
});

const flashKey = (app: AppRecord, token: string) => `app:${app.id}:invitation-flash:${sha256(token)}`;
const pagePath = (app: AppRecord, token: string) => `/apps/${app.slug}/invitation/${token}`;

/** NIST SP 800-63B §3.1.1.2: length only, counted in code points; no composition rules. */
function passwordProblem(password: string | undefined, confirm: string | undefined): string | undefined {
  const length = [...(password ?? '')].length;
  if (length < PASSWORD_MIN) return `Choose a password of at least ${PASSWORD_MIN} characters.`;
  if (length > PASSWORD_MAX) return `Choose a password of at most ${PASSWORD_MAX} characters.`;
  if (password !== confirm) return 'The two passwords are not the same.';
  return undefined;
}

export async function showInvitation(ctx: Context, deps: InvitationPageDeps): Promise<void> {
  const pooled = await loadApp(ctx, deps.pool);
  const { token } = ctx.params as { token: string };
  const { invitation, account, tenantName } = await deps.invitations.open(pooled.app, token);
  const flash = await deps.ephemeral.take<{ error: string }>(flashKey(pooled.app, token));
  const landing = await landingUri(pooled, invitation.clientId, invitation.email);
  renderAppPage(ctx, pooled, 'invitation', {
    title: `Join ${pooled.app.name}`,
    email: invitation.email,
    tenantName,
    needsPassword: deps.invitations.needsPassword(pooled.app, account),
    csrf: browserLinkCsrf(ctx, pooled, PURPOSE, token),
    action: pagePath(pooled.app, token),
    error: flash?.error,
  }, { formTargets: landing ? [new URL(landing).origin] : [] });
}

export async function acceptInvitation(ctx: Context, deps: InvitationPageDeps): Promise<void> {
  const pooled = await loadApp(ctx, deps.pool);
  const { app } = pooled;
  const { token } = ctx.params as { token: string };
  const form = await readForm(ctx);
  assertBrowserLinkCsrf(ctx, pooled, PURPOSE, token, form);
  const { account } = await deps.invitations.open(app, token);
  const again = async (error: string) => {
    await deps.ephemeral.set(flashKey(app, token), { error }, FLASH_TTL_SECONDS);
    ctx.status = 303;
    ctx.redirect(pagePath(app, token));
  };

  let password: string | undefined;
  if (deps.invitations.needsPassword(app, account)) {
    const parsed = acceptForm.safeParse(form);
    const problem = parsed.success ? passwordProblem(parsed.data.new_password, parsed.data.new_password_confirm) : 'Choose a password.';
    if (problem) return again(problem);
    try {
      // Hashing is deliberately slow (argon2id): bound how often one address can make us do it.
      await deps.limiter.hit(app.id, LIMITS.passwordPerIp(deps.ipPerHour), ctx.state.ip);
    } catch (err) {
      if (err instanceof TooManyRequestsError) return again('Too many attempts. Please wait a few minutes and try again.');
      throw err;
    }
    password = parsed.data!.new_password;
  }

  const accepted = await deps.invitations.accept(app, token, { password, ip: ctx.state.ip });
  await handOff(ctx, pooled, deps.ephemeral, {
    accountIds: [accepted.account.id],
    // The person proved control of the address by opening the emailed link (RFC 8176 `email`).
    amr: ['email'],
    tenantId: accepted.invitation.tenantId,
    clientId: accepted.invitation.clientId,
    reason: 'invitation',
  }, accepted.invitation.email);
}
