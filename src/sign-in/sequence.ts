/**
 * The stages of a sign-in, as data. A sign-in method does the first two (identify, prove) and hands over a
 * {@link Proof}; the stages below take it from there, in this order:
 *
 *   identify → prove → choose account → second factor → choose tenant → consent → finish
 *
 * Each stage either resolves by itself (moving the saved {@link Progress} on) or asks the person, with a page. A GET
 * renders the page that is asked for; after a form POST the progress is saved and the browser sent to it (303).
 */
import { again, go, page, selectionRequested, type Attempt, type Outcome, type Progress, type Proof } from './attempt.js';
import type { SequenceDeps } from './deps.js';
import { text, type Text } from '../i18n/text.js';
import { roleDisplayNames } from '../branding/branding-schema.js';
import { chooseTenant } from '../tenants/tenant-choice.js';
import { acrOf } from '../mfa/policy.js';
import { secondFactorAsk, type FactorAsk } from './second-factor-stage.js';

export const STAGE_NAMES = ['identify', 'prove', 'choose_account', 'second_factor', 'choose_tenant', 'consent', 'finish'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

interface Option {
  value: string;
  label: string;
  detail: string;
}

/** A stage that needs the person: the page to show, and for choosers the options offered. */
type Ask = { view: 'select'; locals: Record<string, unknown>; options: Option[]; apply: (progress: Progress, choice: string) => void } | { view: 'consent'; locals: Record<string, unknown> } | FactorAsk;

interface Stage {
  name: StageName;
  /** Moves `progress` on when no input is needed (returns undefined), else says what to ask. */
  resolve(attempt: Attempt, deps: SequenceDeps, progress: Progress): Promise<Ask | undefined>;
}

const accountStage: Stage = {
  name: 'choose_account',
  async resolve(attempt, deps, progress) {
    if (progress.accountId) return undefined;
    if (progress.accountIds.length === 1) {
      progress.accountId = progress.accountIds[0];
      return undefined;
    }
    // OIDC Core §3.1.2.1 select_account: an email may map to several accounts (duplicate contacts).
    const options = await Promise.all(progress.accountIds.map(async (id) => {
      const [account, memberships] = await Promise.all([deps.accounts.find(attempt.app, id), deps.tenants.membershipsOf(attempt.app, id)]);
      const tenants = memberships.map((m) => m.tenant.name).join(', ');
      return { value: id, label: account?.name || account?.email || id, detail: tenants || account?.email || '' };
    }));
    return chooser('sign-in:select.account', 'account', options, (p, choice) => { p.accountId = choice; });
  },
};

/** The app's and tenant's MFA policy (`second-factor-stage.ts`): asks for a second factor, or for enrolment. */
const secondFactorStage: Stage = {
  name: 'second_factor',
  resolve: (attempt, deps, progress) => secondFactorAsk(attempt, deps, progress),
};

const tenantStage: Stage = {
  name: 'choose_tenant',
  async resolve(attempt, deps, progress) {
    if (progress.tenantId !== undefined) return undefined;
    const memberships = await deps.tenants.membershipsOf(attempt.app, progress.accountId!);
    // An unknown `tenant=` never gets here: the provider refuses the authorization request first.
    const decision = chooseTenant({ memberships: memberships.map((m) => m.tenant), requested: attempt.request.tenant, selectAccount: selectionRequested(attempt.request) });
    if (decision.kind !== 'choose') {
      progress.tenantId = decision.kind === 'tenant' ? decision.tenantId : null;
      return undefined;
    }
    const options = memberships.filter((m) => decision.tenantIds.includes(m.tenant.id))
      .map((m) => ({ value: m.tenant.id, label: m.tenant.name, detail: roleDisplayNames(m.roles, attempt.app.settings.role_names, m.tenant.roleNames).join(', ') }));
    return chooser('sign-in:select.tenant', 'tenant', options, (p, choice) => { p.tenantId = choice; });
  },
};

const consentStage: Stage = {
  name: 'consent',
  async resolve(attempt, deps, progress) {
    // OIDC Core §3.1.2.4: consent for clients the app does not own; first-party clients skip it.
    if (attempt.client.firstParty || progress.consented) return undefined;
    // The tenant and roles the tokens will carry are released too: the person sees them before agreeing.
    const membership = progress.tenantId ? await deps.tenants.membership(attempt.app, progress.tenantId, progress.accountId!) : undefined;
    return {
      view: 'consent',
      locals: {
        title: text('sign-in:consent.title', { client: attempt.client.name }), scopes: attempt.request.scope.split(' ').filter(Boolean),
        tenant: membership?.tenant.name, roles: membership ? roleDisplayNames(membership.roles, attempt.app.settings.role_names, membership.tenant.roleNames).join(', ') : undefined,
      },
    };
  },
};

/**
 * The stages after the proof, in order. The second-factor stage runs before the tenant chooser (the app's policy)
 * and again after it: a tenant's `mfa: required` applies only once that tenant is chosen (see second-factor-stage.ts).
 */
const STAGES: readonly Stage[] = [accountStage, secondFactorStage, tenantStage, secondFactorStage, consentStage];

function chooser(heading: Text, kind: 'account' | 'tenant', options: Option[], apply: (p: Progress, choice: string) => void): Ask {
  return { view: 'select', locals: { title: heading, heading, kind, options }, options, apply };
}

async function firstAsk(attempt: Attempt, deps: SequenceDeps, progress: Progress): Promise<Ask | undefined> {
  for (const stage of STAGES) {
    const ask = await stage.resolve(attempt, deps, progress);
    if (ask) return ask;
  }
  return undefined;
}

/** Starts the stages with a fresh proof (a method just proved who the person is). */
export function afterProof(attempt: Attempt, deps: SequenceDeps, proof: Proof, respond: 'render' | 'redirect'): Promise<Outcome> {
  const progress: Progress = { accountIds: proof.accountIds, amr: proof.amr, fresh: true, ...(proof.tenantId ? { tenantId: proof.tenantId } : {}) };
  return advance(attempt, deps, progress, respond);
}

/**
 * Moves the sign-in on from `progress`: finishes when nothing needs asking, else saves the progress and shows (GET)
 * or redirects to (POST) the page of the first stage that asks.
 */
export async function advance(attempt: Attempt, deps: SequenceDeps, progress: Progress, respond: 'render' | 'redirect'): Promise<Outcome> {
  const before = JSON.stringify(progress);
  const ask = await firstAsk(attempt, deps, progress);
  if (!ask) return finish(attempt, deps, progress);
  if (respond === 'redirect' || JSON.stringify(progress) !== before || !attempt.state.progress) await attempt.save({ progress });
  if (respond === 'redirect') return go('');
  return { ...page(ask.view, ask.locals), ...('scripts' in ask && ask.scripts ? { scripts: ask.scripts } : {}) };
}

/** The person's answer on a chooser page: must be one of the options offered now. */
export async function choose(attempt: Attempt, deps: SequenceDeps, choice: string): Promise<Outcome> {
  const progress = attempt.state.progress;
  if (!progress) return go('');
  const ask = await firstAsk(attempt, deps, progress);
  if (!ask || ask.view !== 'select' || !ask.options.some((o) => o.value === choice)) return again({ error: 'sign-in:error.choose_option' });
  ask.apply(progress, choice);
  return advance(attempt, deps, progress, 'redirect');
}

/** "Allow" or "Deny" on the consent page. */
export async function answerConsent(attempt: Attempt, deps: SequenceDeps, allowed: boolean): Promise<Outcome> {
  const progress = attempt.state.progress;
  if (!progress) return go('');
  if (!allowed) return { kind: 'finish', result: { error: 'access_denied', error_description: 'The person declined to share their information.' } };
  return advance(attempt, deps, { ...progress, consented: true }, 'redirect');
}

/**
 * "Not you?" on a chooser: forget who was proved in this attempt and show the sign-in page, so another account signs
 * in (the provider then replaces the browser's session with it).
 */
export async function notMe(attempt: Attempt): Promise<Outcome> {
  await attempt.save({ progress: undefined, anotherAccount: true, flash: undefined });
  return go('');
}

/** "Cancel" on any page: the client receives access_denied (RFC 6749 §4.1.2.1). */
export function cancel(): Outcome {
  return { kind: 'finish', result: { error: 'access_denied', error_description: 'The person cancelled the sign-in.' } };
}

/**
 * The attempt's main page when nothing was proved in it yet: the saved progress, else the current session's account
 * when the provider only asks for tenant, account or consent, else undefined (show the sign-in page).
 */
export function resume(attempt: Attempt, deps: SequenceDeps): Promise<Outcome> | undefined {
  if (attempt.state.progress) return advance(attempt, deps, attempt.state.progress, 'render');
  // "Not you?": the session's account is not offered again; the sign-in page shows.
  if (attempt.state.anotherAccount) return undefined;
  if (attempt.promptName !== 'login' && attempt.sessionAccountId) {
    return advance(attempt, deps, { accountIds: [attempt.sessionAccountId], amr: [...(attempt.sessionAmr ?? [])], fresh: false }, 'render');
  }
  // Step-up (OIDC Core §3.1.2.1 acr_values): the session's account proves a second factor, without signing in again.
  if (attempt.stepUpOnly && attempt.sessionAccountId) {
    return advance(attempt, deps, { accountIds: [attempt.sessionAccountId], amr: [...(attempt.sessionAmr ?? [])], fresh: false, stepUp: true }, 'render');
  }
  return undefined;
}

/** Records the grant and hands login + consent to the provider. */
async function finish(attempt: Attempt, deps: SequenceDeps, progress: Progress): Promise<Outcome> {
  const accountId = progress.accountId!;
  const grantId = await attempt.saveGrant({ accountId, tenantId: progress.tenantId ?? null });
  const result: Outcome & { kind: 'finish' } = { kind: 'finish', result: { consent: { grantId }, select_account: {} } };
  // A second factor proved in this interaction (step-up, or a tenant that requires it) is a new login event.
  const provedNow = progress.amr.includes('mfa') && !(attempt.sessionAmr ?? []).includes('mfa');
  if (progress.fresh || progress.stepUp || provedNow || attempt.sessionAccountId !== accountId) {
    result.result.login = { accountId, amr: progress.amr, acr: acrOf(progress.amr), remember: true };
    await Promise.all([
      deps.accounts.recordLogin(attempt.app, accountId),
      deps.audit.record(attempt.app, 'sign_in.succeeded', { accountId, ip: attempt.ip, detail: { amr: progress.amr.join(' '), client_id: attempt.client.clientId, user_agent: attempt.userAgent } }),
    ]);
  }
  return result;
}
