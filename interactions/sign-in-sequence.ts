/**
 * What happens once a person has proved who they are (password, code, link, invitation): choose the account when an
 * email maps to several, choose the tenant when the account is in several, ask consent for third-party clients, then
 * hand login + grant to the provider. Each stage either renders its page (and saves progress on the interaction)
 * or moves on, so every sign-in method shares one sequence.
 */
import type { AccountService } from '../src/accounts/account-service.js';
import type { TenantService } from '../src/tenants/tenant-service.js';
import type { AuditLog } from '../src/audit/audit-log.js';
import { setGrantTenant } from '../src/provider/tenant-grant.js';
import { finish, pendingOf, redirectTo, renderStep, saveState, type Pending, type Step } from './context.js';

export interface SequenceDeps {
  accounts: AccountService;
  tenants: TenantService;
  audit: AuditLog;
}

/** True when the authorization request asked for the account/tenant chooser (`prompt=select_account`). */
export function selectionRequested(step: Step): boolean {
  return String(step.interaction.params.prompt ?? '').split(' ').includes('select_account');
}

type Stage =
  | { kind: 'done' }
  | { kind: 'account' | 'tenant'; options: Array<{ value: string; label: string; detail: string }> }
  | { kind: 'consent' };

/** Resolves every stage that needs no input (mutating `pending`) and returns the first that does. */
async function nextStage(step: Step, deps: SequenceDeps, pending: Pending): Promise<Stage> {
  // 1. Which account (an email may map to several; OIDC Core §3.1.2.1 select_account).
  if (!pending.accountId) {
    if (pending.accountIds.length !== 1) return { kind: 'account', options: await accountOptions(step, deps, pending.accountIds) };
    pending.accountId = pending.accountIds[0];
  }

  // 2. Which tenant: the one asked for with `tenant=`, the only one, or the person's choice.
  if (pending.tenantId === undefined) {
    const memberships = await deps.tenants.membershipsOf(step.app, pending.accountId);
    const requested = step.interaction.params.tenant as string | undefined;
    const preselected = requested ? memberships.find((m) => m.tenant.slug === requested || m.tenant.id === requested) : undefined;
    if (preselected && !selectionRequested(step)) pending.tenantId = preselected.tenant.id;
    else if (memberships.length === 0) pending.tenantId = null;
    else if (memberships.length === 1 && !selectionRequested(step)) pending.tenantId = memberships[0].tenant.id;
    else {
      return {
        kind: 'tenant',
        options: memberships.map((m) => ({ value: m.tenant.id, label: m.tenant.name, detail: m.roles.join(', ') })),
      };
    }
  }

  // 3. Consent, for clients the app does not own (first-party clients skip it).
  if (!step.client.firstParty && !pending.consented) return { kind: 'consent' };
  return { kind: 'done' };
}

/**
 * Moves the sign-in on. After a form POST (`respond: 'redirect'`) a stage that needs input is saved and the
 * browser is sent to the page (303); on a GET it is rendered directly.
 */
export async function continueSignIn(step: Step, deps: SequenceDeps, pending: Pending, respond: 'render' | 'redirect'): Promise<void> {
  const before = JSON.stringify(pending);
  const stage = await nextStage(step, deps, pending);
  if (stage.kind === 'done') return complete(step, deps, pending as Required<Pending>);
  if (JSON.stringify(pending) !== before || respond === 'redirect' || !pendingOf(step)) await saveState(step, { pending });
  if (respond === 'redirect') return redirectTo(step, step.basePath);
  return renderStage(step, stage);
}

function renderStage(step: Step, stage: Exclude<Stage, { kind: 'done' }>): void {
  if (stage.kind === 'consent') {
    return renderStep(step, 'consent', {
      title: `Allow ${step.client.name}?`,
      scopes: String(step.interaction.params.scope ?? 'openid').split(' ').filter(Boolean),
    });
  }
  const heading = stage.kind === 'account' ? 'Choose an account' : 'Choose an organisation';
  renderStep(step, 'select', { title: heading, heading, kind: stage.kind, options: stage.options });
}

async function accountOptions(step: Step, deps: SequenceDeps, accountIds: string[]) {
  return Promise.all(
    accountIds.map(async (id) => {
      const [account, memberships] = await Promise.all([deps.accounts.find(step.app, id), deps.tenants.membershipsOf(step.app, id)]);
      const tenants = memberships.map((m) => m.tenant.name).join(', ');
      return { value: id, label: account?.name || account?.email || id, detail: tenants || account?.email || '' };
    }),
  );
}

/** The person's answer on a selection page: must be one of the options offered. */
export async function applyChoice(step: Step, deps: SequenceDeps, pending: Pending, choice: string): Promise<boolean> {
  const stage = await nextStage(step, deps, pending);
  if (stage.kind !== 'account' && stage.kind !== 'tenant') return false;
  if (!stage.options.some((o) => o.value === choice)) return false;
  if (stage.kind === 'account') pending.accountId = choice;
  else pending.tenantId = choice;
  return true;
}

/** Records the grant (scopes, claims, tenant) and finishes the interaction. */
async function complete(step: Step, deps: SequenceDeps, pending: Required<Pending>): Promise<void> {
  const { provider, interaction } = step;
  const accountId = pending.accountId;
  const sessionAccount = interaction.session?.accountId;

  // Reuse the grant of this session and client when it belongs to the same account; otherwise start a new one.
  let grant = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  if (!grant || grant.accountId !== accountId) grant = new provider.Grant({ accountId, clientId: step.client.clientId });

  const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  grant.addOIDCScope(String(interaction.params.scope ?? 'openid'));
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  setGrantTenant(grant, pending.tenantId ?? undefined);
  const grantId = await grant.save();

  const result: Record<string, unknown> = { consent: { grantId }, select_account: {} };
  if (pending.fresh || sessionAccount !== accountId) {
    result.login = { accountId, amr: pending.amr, remember: true };
    await deps.accounts.recordLogin(step.app, accountId);
    await deps.audit.record(step.app, 'sign_in.succeeded', { accountId, ip: step.ctx.state.ip, detail: { amr: pending.amr.join(' '), client_id: step.client.clientId } });
  }
  await finish(step, result);
}
