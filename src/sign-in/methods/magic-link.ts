/**
 * Sign-in with an emailed link (when the app's login_methods include `magic_link`), NIST SP 800-63B §5.1.3
 * out-of-band authentication over email:
 *
 * - "Email me a sign-in link" answers the same whether or not the address belongs to an account (OWASP ASVS V2.2):
 *   unknown, opted-out and deactivated addresses simply get no message.
 * - The link `{issuer}/link/{token}` carries 32 random bytes; only their SHA-256 is stored, with the attempt it was
 *   asked from and the accounts it signs in to. Valid `lifetimes.magicLink`, single use, only the newest link of an
 *   attempt works; sends are limited like codes.
 * - Opened in the browser that asked for it, the link completes that sign-in. Opened elsewhere, a page asks "Sign in
 *   on this device?"; confirming signs that device in through a hand-off (`handoff.ts`). Opening alone never uses the
 *   link up, so mail scanners that fetch links do no harm.
 */
import { z } from 'zod';
import { mayReceiveSignInMessages } from '../../accounts/account-service.js';
import { randomId, sha256 } from '../../crypto/random.js';
import { PortcullisError } from '../../errors.js';
import { shortLivedKey } from '../../storage/short-lived-keys.js';
import { again, go, page, secondsUntilResend, type AppVisit, type Attempt, type Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import type { SignInMethod } from '../method.js';
import { afterProof } from '../sequence.js';
import { identifierField, INVALID_IDENTIFIER, parseIdentifier, sendRefusal } from '../identifier.js';
import { handOff } from '../handoff.js';
import { formTargetsOf, landingUri } from '../landing.js';
import { LINK_TOKEN_PATTERN } from '../link-token.js';

export const magicLinkMethod: SignInMethod = {
  id: 'magic_link',
  identifier: 'email',
  amr: ['email'],
  secondFactor: false,
  enabled: (app) => app.settings.login_methods.includes('magic_link'),
  views: ['login', 'link-sent', 'link-confirm'],
};

interface StoredLink {
  /** The attempt the link was asked from. */
  uid: string;
  clientId: string;
  email: string;
  /** Accounts the link signs in to; empty for an unknown address (then no link was sent). */
  accountIds: string[];
  /**
   * The tenant whose brand the attempt wore (`tenant=` or the chosen organisation): the "Sign in on this device?"
   * page wears it too. Absent on links issued before it was recorded.
   */
  tenantId?: string;
}

export class LinkInvalidError extends PortcullisError {
  constructor() {
    super(400, 'link_invalid', 'This sign-in link has expired or has already been used. Go back to the application and ask for a new one.');
  }
}

export const sendLinkForm = z.object({ identifier: identifierField });
export const invalidSendLinkForm = (raw: Record<string, string>): Outcome => again({ error: INVALID_IDENTIFIER.email, identifier: raw.identifier?.slice(0, 320) });

type Deps = Pick<SignInDeps, 'accounts' | 'tenants' | 'audit' | 'factors' | 'limiter' | 'messenger' | 'ephemeral' | 'lifetimes' | 'ipPerHour'>;

/** Only the token's SHA-256 is ever stored (a store read never yields a working link). */
const linkKey = (appId: string, token: string) => shortLivedKey(appId, 'link', sha256(token));

export async function sendLink(attempt: Attempt, deps: Deps, input: z.output<typeof sendLinkForm>): Promise<Outcome> {
  if (!magicLinkMethod.enabled(attempt.app)) return again({ error: 'sign-in:error.choose_method' });
  const identifier = parseIdentifier(input.identifier, 'email');
  if (!identifier) return invalidSendLinkForm(input);
  const waitingPage = attempt.state.link?.identifier === identifier ? '/link' : '';
  const refused = await sendRefusal(attempt, deps, identifier, { noun: 'link', plural: 'sign-in links', waitingPage });
  if (refused) return refused;
  const { magicLink } = deps.lifetimes;

  const accounts = (await deps.accounts.findByEmail(attempt.app, identifier)).filter(mayReceiveSignInMessages);
  const token = randomId(32);
  const stored: StoredLink = { uid: attempt.uid, clientId: attempt.client.clientId, email: identifier, accountIds: accounts.map((a) => a.id), tenantId: attempt.brandTenant?.id };
  // Only the newest link of this attempt works: the previous one is deleted.
  const latestKey = shortLivedKey(attempt.app.id, 'link-latest', attempt.uid);
  const previous = await deps.ephemeral.get<string>(latestKey);
  await Promise.all([
    deps.ephemeral.set(linkKey(attempt.app.id, token), stored, magicLink),
    deps.ephemeral.set(latestKey, sha256(token), magicLink),
    previous ? deps.ephemeral.delete(shortLivedKey(attempt.app.id, 'link', previous)) : undefined,
  ]);
  if (accounts.length > 0) {
    // Built from the issuer (PUBLIC_URL), never from a Host header. Not awaited: known addresses must not answer slower.
    const link = `${attempt.issuer}/link/${token}`;
    void deps.messenger.send(attempt.app, { channel: 'email', to: identifier, kind: 'magic_link', locals: { link }, locale: accounts[0].locale ?? attempt.language, brandTenant: attempt.brandTenant });
  }
  await Promise.all([
    deps.audit.record(attempt.app, 'sign_in.link_requested', { ip: attempt.ip }),
    attempt.save({ link: { identifier, sentAt: Date.now() }, flash: undefined }),
  ]);
  return go('/link');
}

/** "Check your email". */
export function linkSentPage(attempt: Attempt, deps: Pick<Deps, 'lifetimes'>): Outcome {
  const link = attempt.state.link;
  if (!link) return go('');
  return page('link-sent', { title: 'sign-in:title.check_email', identifier: link.identifier, validMinutes: deps.lifetimes.magicLink / 60, resendIn: secondsUntilResend(link.sentAt, deps.lifetimes.resendAfter) });
}

/** The link's record when it can still sign someone in (opening does not use it up). */
export async function findLink(app: { id: string }, deps: Pick<Deps, 'ephemeral'>, token: string): Promise<StoredLink> {
  if (!LINK_TOKEN_PATTERN.test(token)) throw new LinkInvalidError();
  const stored = await deps.ephemeral.get<StoredLink>(linkKey(app.id, token));
  if (!stored || stored.accountIds.length === 0) throw new LinkInvalidError();
  return stored;
}

/** Uses the link up (single use) and returns the accounts it still signs in to. */
async function redeem(visit: Pick<AppVisit, 'app' | 'ip'>, deps: Deps, token: string): Promise<StoredLink> {
  if (!LINK_TOKEN_PATTERN.test(token)) throw new LinkInvalidError();
  const stored = await deps.ephemeral.take<StoredLink>(linkKey(visit.app.id, token));
  if (!stored) throw new LinkInvalidError();
  const accounts = (await Promise.all(stored.accountIds.map((id) => deps.accounts.find(visit.app, id)))).filter(mayReceiveSignInMessages);
  if (accounts.length === 0) throw new LinkInvalidError();
  // Receiving the link proves control of the address (OIDC Core §5.1 email_verified).
  await Promise.all([
    ...accounts.map((a) => deps.accounts.markVerified(visit.app, a.id, 'email')),
    deps.audit.record(visit.app, 'sign_in.link_used', { ip: visit.ip }),
  ]);
  return { ...stored, accountIds: accounts.map((a) => a.id) };
}

/** Opened in the browser whose attempt asked for it: signs in (amr `email`, RFC 8176). */
export async function openLinkInAttempt(attempt: Attempt, deps: Deps, token: string): Promise<Outcome> {
  const stored = await findLink(attempt.app, deps, token);
  if (stored.uid !== attempt.uid) throw new LinkInvalidError();
  const redeemed = await redeem(attempt, deps, token);
  return afterProof(attempt, deps, { accountIds: redeemed.accountIds, amr: [...magicLinkMethod.amr] }, 'redirect');
}

/** Opened in another browser: "Sign in on this device?" (the form's answer may lead on to the landing page). */
export async function confirmOnThisDevicePage(visit: AppVisit, deps: Deps, token: string): Promise<Outcome> {
  const stored = await findLink(visit.app, deps, token);
  const landing = await landingUri(visit, stored.clientId, stored.email);
  return {
    kind: 'page', view: 'link-confirm', locals: { title: 'sign-in:link.confirm_title', action: `/apps/${visit.app.slug}/link/${token}` },
    formTargets: formTargetsOf(landing), brandTenantId: stored.tenantId,
  };
}

/**
 * "Sign in on this device": uses the link up and signs this browser in through a hand-off, landing on the client's
 * `initiate_login_uri` (OIDC Core §4). The attempt the link was asked from, on the other device, stays as it was.
 */
export async function confirmOnThisDevice(visit: AppVisit, deps: Deps, token: string): Promise<Outcome> {
  const redeemed = await redeem(visit, deps, token);
  return handOff(visit, deps, { accountIds: redeemed.accountIds, amr: [...magicLinkMethod.amr], clientId: redeemed.clientId, reason: 'magic_link' }, redeemed.email);
}
