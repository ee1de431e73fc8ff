/**
 * Accepting an invitation, `/apps/{slug}/invitation/{token}` (outside any attempt): the page shows the invitation
 * (choose a password, or just confirm when the app does not sign in with passwords or the account already has one)
 * and never uses the link up; accepting uses it once and signs the person in through a hand-off to the client's
 * `initiate_login_uri` or the app's `invitation_landing_uri` (OIDC Core §4).
 */
import { z } from 'zod';
import { typedPasswordSchema } from '../../accounts/password-policy.js';
import { passwordProblemText, passwordText } from '../password-text.js';
import { text, type Text } from '../../i18n/text.js';
import { LIMITS } from '../../limits/rate-limiter.js';
import type { InvitationService } from '../../invitations/invitation-service.js';
import { sha256 } from '../../crypto/random.js';
import { shortLivedKey } from '../../storage/short-lived-keys.js';
import { type AppVisit, type Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { handOff } from '../handoff.js';
import { formTargetsOf, landingUri } from '../landing.js';

export const invitationMethod: SignInMethod = {
  id: 'invitation',
  identifier: 'none',
  // The person proved control of the address by opening the emailed link (RFC 8176 `email`).
  amr: ['email'],
  secondFactor: false,
  enabled: () => true,
  views: ['invitation'],
};

export const acceptForm = z.object({ new_password: typedPasswordSchema.optional(), new_password_confirm: typedPasswordSchema.optional() });

type Deps = Pick<SignInDeps, 'ephemeral' | 'lifetimes' | 'limiter' | 'ipPerHour'> & { invitations: InvitationService };

/** How long a form error waits for the page that shows it (post/redirect/get outside an attempt). */
const FLASH_TTL_SECONDS = 120;
const flashKey = (appId: string, token: string) => shortLivedKey(appId, 'invitation-flash', sha256(token));
const pagePath = (visit: AppVisit, token: string) => `/apps/${visit.app.slug}/invitation/${token}`;

export async function invitationPage(visit: AppVisit, deps: Deps, token: string): Promise<Outcome> {
  const { invitation, account, tenantName } = await deps.invitations.open(visit.app, token);
  const [flash, landing] = await Promise.all([
    deps.ephemeral.take<{ error: string }>(flashKey(visit.app.id, token)),
    landingUri(visit, invitation.clientId, invitation.email),
  ]);
  return {
    kind: 'page',
    view: 'invitation',
    locals: {
      title: text('sign-in:invitation.title', { app: visit.app.name }),
      email: invitation.email,
      tenantName,
      needsPassword: deps.invitations.needsPassword(visit.app, account),
      action: pagePath(visit, token),
      error: flash?.error,
    },
    formTargets: formTargetsOf(landing),
    // The page wears the brand of the tenant the person is invited into, like the email did.
    brandTenantId: invitation.tenantId,
  };
}

export async function acceptInvitation(visit: AppVisit, deps: Deps, token: string, input: z.output<typeof acceptForm> | undefined): Promise<Outcome> {
  const { app } = visit;
  const { account, invitation } = await deps.invitations.open(app, token);
  const again = async (error: Text): Promise<Outcome> => {
    await deps.ephemeral.set(flashKey(app.id, token), { error }, FLASH_TTL_SECONDS);
    return { kind: 'redirect', to: pagePath(visit, token) };
  };

  let password: string | undefined;
  if (deps.invitations.needsPassword(app, account)) {
    const typed = input?.new_password ?? '';
    const problem = passwordProblemText(typed, { email: invitation.email, appName: app.name })
      ?? (typed !== input?.new_password_confirm ? passwordText('mismatch') : undefined);
    if (problem) return again(problem);
    // Hashing is deliberately slow (argon2id): bound how often one address can make us do it.
    if (await deps.limiter.hit(app.id, LIMITS.passwordPerIp(deps.ipPerHour), visit.ip ?? 'unknown')) {
      return again('sign-in:error.too_many_attempts');
    }
    password = typed;
  }

  const accepted = await deps.invitations.accept(app, token, { password, ip: visit.ip });
  return handOff(visit, deps, {
    accountIds: [accepted.account.id],
    amr: [...invitationMethod.amr],
    tenantId: accepted.invitation.tenantId,
    clientId: accepted.invitation.clientId,
    reason: 'invitation',
  }, accepted.invitation.email);
}
