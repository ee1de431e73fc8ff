/**
 * What every interaction step works with: the app, its provider, the pending interaction and its client, plus the
 * helpers to render a page with a CSRF token and to remember progress between the steps of one sign-in.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Interaction } from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import { hmac, safeEqual } from '../src/crypto/random.js';
import { ForbiddenError, NotFoundError, PortcullisError } from '../src/http/errors.js';
import { renderView } from '../src/http/views.js';
import { setPageCsp } from '../src/http/security-headers.js';
import type { ProviderPool } from '../src/provider/provider-pool.js';
import type { AppRecord } from '../src/storage/ports.js';

/** Progress of one sign-in, kept on the interaction itself (so any server process can continue it). */
export interface Pending {
  /** Accounts the person proved control of (several when an email maps to several accounts). */
  accountIds: string[];
  /** Authentication methods used (RFC 8176 values: pwd, otp, email, sms). */
  amr: string[];
  /** True when the person authenticated in this interaction (a fresh login, counted in login_count). */
  fresh: boolean;
  accountId?: string;
  /** Chosen tenant; null when the account has no tenant. */
  tenantId?: string | null;
  consented?: boolean;
}

export interface Step {
  ctx: Context;
  app: AppRecord;
  provider: Provider;
  interaction: Interaction;
  client: { clientId: string; name: string; firstParty: boolean; redirectOrigins: string[]; initiateLoginUri?: string };
  uid: string;
  basePath: string;
  /** Message carried over from the previous POST (post/redirect/get). */
  flash?: Flash;
}

export class InteractionExpiredError extends PortcullisError {
  constructor() {
    super(400, 'interaction_expired', 'This sign-in page has expired. Go back to the application and sign in again.');
  }
}

export async function loadStep(ctx: Context, pool: ProviderPool): Promise<Step> {
  const { slug, uid } = ctx.params as { slug: string; uid: string };
  const pooled = await pool.get(slug);
  if (!pooled) throw new NotFoundError(`No app "${slug}".`);
  let interaction: Interaction;
  try {
    interaction = await pooled.provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    if (err instanceof oidcErrors.SessionNotFound) throw new InteractionExpiredError();
    throw err;
  }
  if (interaction.uid !== uid) throw new InteractionExpiredError();
  const client = await pooled.provider.Client.find(String(interaction.params.client_id));
  if (!client) throw new InteractionExpiredError();
  const metadata = client.metadata();
  return {
    ctx,
    app: pooled.app,
    provider: pooled.provider,
    interaction,
    uid,
    basePath: `/apps/${pooled.app.slug}/interaction/${uid}`,
    client: {
      clientId: client.clientId,
      name: String(metadata.client_name ?? client.clientId),
      firstParty: metadata['urn:portcullis:first_party'] === true,
      redirectOrigins: (client.redirectUris ?? []).map((u) => new URL(u).origin),
      initiateLoginUri: metadata.initiate_login_uri as string | undefined,
    },
  };
}

/** CSRF token bound to this interaction and signed with the app's cookie key (OWASP ASVS V4.2.2). */
export function csrfToken(step: Pick<Step, 'provider' | 'uid'>): string {
  return hmac(String((step.provider.keys as string[] | undefined)?.[0] ?? ''), `csrf:${step.uid}`);
}

export function assertCsrf(step: Step, form: Record<string, string>): void {
  if (!form._csrf || !safeEqual(form._csrf, csrfToken(step))) {
    throw new ForbiddenError('The form has expired or did not come from this site. Reload the page and try again.');
  }
}

export interface StepState {
  pending?: Pending;
  /** Where a one-time code was asked to be sent (the code page shows it and resends to it). */
  otp?: { identifier: string; channel: 'email' | 'sms' };
  /** One-shot message for the next GET of the page (post/redirect/get). */
  flash?: Flash;
}

export interface Flash {
  error?: string;
  notice?: string;
  identifier?: string;
  /** The name typed on the registration form. */
  name?: string;
}

function stateOf(step: Step): StepState {
  return (step.interaction.result as StepState | undefined) ?? {};
}

export function pendingOf(step: Step): Pending | undefined {
  return stateOf(step).pending;
}

export function otpOf(step: Step): StepState['otp'] {
  return stateOf(step).otp;
}

/** Saves progress (and an optional flash message) on the interaction, with the interaction's remaining TTL. */
export async function saveState(step: Step, state: StepState): Promise<void> {
  step.interaction.result = { ...stateOf(step), ...state };
  await step.interaction.save(step.interaction.exp - Math.floor(Date.now() / 1000));
}

/** Reads and clears the flash message. */
export async function takeFlash(step: Step): Promise<Flash | undefined> {
  const { flash, ...rest } = stateOf(step);
  if (!flash) return undefined;
  step.interaction.result = rest;
  await step.interaction.save(step.interaction.exp - Math.floor(Date.now() / 1000));
  return flash;
}

/** Post/redirect/get: every form POST answers 303. */
export function redirectTo(step: Pick<Step, 'ctx'>, location: string): void {
  step.ctx.status = 303;
  step.ctx.redirect(location);
}

/** Re-shows the current page with a message (and the identifier typed), after a 303. */
export async function retry(step: Step, flash: Flash, location = step.basePath): Promise<void> {
  await saveState(step, { flash });
  redirectTo(step, location);
}

/** Renders an interaction page: CSP allowing the form to lead on to the client, no caching, CSRF token. */
export function renderStep(step: Step, view: string, locals: Record<string, unknown>, status = 200): void {
  const { ctx } = step;
  setPageCsp(ctx, step.client.redirectOrigins);
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = renderView(view, {
    app: step.app,
    client: step.client,
    csrf: csrfToken(step),
    basePath: step.basePath,
    appPath: `/apps/${step.app.slug}`,
    error: step.flash?.error,
    notice: step.flash?.notice,
    ...locals,
  });
}

/** Hands the result to the provider, which answers 303 back to the authorization endpoint. */
export async function finish(step: Step, result: Record<string, unknown>): Promise<void> {
  step.ctx.respond = false;
  await step.provider.interactionFinished(step.ctx.req, step.ctx.res, result, { mergeWithLastSubmission: false });
}
