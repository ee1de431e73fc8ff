/**
 * Partner sign-in links, `/apps/{slug}/sso/{partner}?token=JWT[&client_id=…]` (or the same as a POSTed form): a
 * trusted partner system (an MSP's PSA) signs a short-lived JWT for a person; opening the link signs the person in
 * without a password, provisioning the account on first use (`partners/partner-redemption.ts`).
 *
 * Like an accepted invitation, the link is validated outside any interaction and the proven sign-in is handed to
 * this browser (`handoff.ts`); the browser is sent to the landing client's `initiate_login_uri` (OIDC Core §4) with
 * `iss` and `login_hint`, where the relying party starts an ordinary code flow with its own PKCE verifier, which the
 * hand-off completes without a page. The token's signature, single-use `jti` and short lifetime are what protect the
 * link; people only ever see one of a few plain messages (support teams know them), never why a token was refused.
 */
import { PartnerRateLimited, type PartnerRedemption } from '../../partners/partner-redemption.js';
import type { PartnerService } from '../../partners/partner-service.js';
import { PartnerTokenProblem, type PartnerProblemKind } from '../../partners/partner-token.js';
import type { AppVisit, Outcome } from '../attempt.js';
import type { SignInDeps } from '../deps.js';
import { handOff } from '../handoff.js';
import type { SignInMethod } from '../method.js';

export const partnerLinkMethod: SignInMethod = {
  id: 'partner_link',
  identifier: 'none',
  // No RFC 8176 value names "vouched for by a federated partner"; a private value is allowed (RFC 8176 §1).
  amr: ['partner'],
  secondFactor: false,
  enabled: () => true,
  views: ['error'],
};

export type PartnerLinkDeps = Pick<SignInDeps, 'ephemeral' | 'lifetimes' | 'accounts'> & { partners: PartnerService; partnerRedemption: PartnerRedemption };

/** The pages a person may see, in the words portal support teams use. */
export const PARTNER_LINK_MESSAGES = {
  expired: { title: 'sign-in:partner.expired_title', description: 'sign-in:partner.expired', status: 400 },
  used: { title: 'sign-in:partner.used_title', description: 'sign-in:partner.used', status: 400 },
  invalid: { title: 'sign-in:partner.invalid_title', description: 'sign-in:partner.invalid', status: 400 },
  not_set_up: { title: 'sign-in:partner.not_set_up_title', description: 'sign-in:partner.not_set_up', status: 404 },
  keys_unavailable: { title: 'common:error.title.unavailable', description: 'sign-in:partner.keys_unavailable', status: 503 },
  rate_limited: { title: 'sign-in:partner.rate_limited_title', description: 'sign-in:partner.rate_limited', status: 429 },
} as const;

type MessageKind = PartnerProblemKind | 'not_set_up' | 'rate_limited';

function problemPage(kind: MessageKind, retryAfter?: number): Outcome {
  const message = PARTNER_LINK_MESSAGES[kind];
  return { kind: 'page', view: 'error', locals: { title: message.title, description: message.description, error: `partner_link_${kind}` }, status: message.status, retryAfter };
}

/** The link's input, whichever way it came (query string or form). */
export interface PartnerLinkInput {
  token?: string;
  clientId?: string;
}

/** Opens a partner sign-in link: validates it, uses it up and hands the sign-in to this browser. */
export async function openPartnerLink(visit: AppVisit, deps: PartnerLinkDeps, partnerSlug: string, input: PartnerLinkInput, continueAt: string): Promise<Outcome> {
  const partner = /^[a-z0-9-]{1,63}$/.test(partnerSlug) ? await deps.partners.find(visit.app, partnerSlug) : undefined;
  if (!partner) {
    await deps.partnerRedemption.refuseUnknown(visit.app, partnerSlug, { ip: visit.ip, via: 'link' });
    return problemPage('not_set_up');
  }
  // A link may name another client of the app to land on; one that does not exist makes the link invalid.
  const clientId = input.clientId ?? partner.landingClientId;
  if (input.clientId && !(input.clientId.length <= 100 && (await visit.findClient(input.clientId)))) return problemPage('invalid');
  try {
    const redeemed = await deps.partnerRedemption.redeem(visit.app, partner, input.token ?? '', { ip: visit.ip, via: 'link', audience: visit.issuer });
    const outcome = await handOff(visit, deps, {
      accountIds: [redeemed.account.id], amr: [...partnerLinkMethod.amr], tenantId: redeemed.tenantId, clientId, reason: 'partner_link',
    }, redeemed.email);
    // On to our own continue step (a same-site GET), which sees this browser's session cookie even when the partner
    // POSTed the link cross-site, and only then to the relying party.
    return outcome.kind === 'handoff' ? { ...outcome, to: continueAt, askFirst: true } : outcome;
  } catch (error) {
    if (error instanceof PartnerRateLimited) return problemPage('rate_limited', error.retryAfterSeconds);
    if (error instanceof PartnerTokenProblem) return problemPage(error.kind);
    throw error;
  }
}
