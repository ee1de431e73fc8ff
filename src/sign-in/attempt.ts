/**
 * One sign-in attempt as the sign-in core sees it: the app, the client, what the authorization request asked for,
 * and the progress saved so far. It knows nothing of Koa or of oidc-provider: `interactions/attempt-web.ts`
 * builds it from a request, and the core answers with an {@link Outcome} that the web layer turns into a response.
 */
import type { AppRecord, TenantRecord } from '../storage/ports.js';
import type { Text } from '../i18n/text.js';

/** The relying party the person is signing in to. */
export interface ClientSummary {
  clientId: string;
  name: string;
  /** Owned by the app: no consent page (the app's own portal). */
  firstParty: boolean;
  /** Origins of the client's redirect URIs: the pages' forms may lead on to them (CSP form-action). */
  redirectOrigins: readonly string[];
  /** OIDC Core §4: where a sign-in started outside an authorization request lands for this client. */
  initiateLoginUri?: string;
}

/** What the authorization request asked for (the parts the sign-in stages read). */
export interface RequestedSignIn {
  scope: string;
  /** Space-separated OIDC `prompt` values. */
  prompt?: string;
  /** `tenant=` (slug or id): the organisation to sign in to. */
  tenant?: string;
  loginHint?: string;
  /** `acr_values` (OIDC Core §3.1.2.1), split: `urn:portcullis:acr:mfa` asks for two factors. */
  acrValues?: string[];
}

/** Who the person proved to be, and how: what every sign-in method yields. */
export interface Proof {
  /** Accounts the person proved control of (several when an email maps to several accounts). */
  accountIds: string[];
  /** Authentication methods used (RFC 8176 values: pwd, otp, email, sms, …). */
  amr: string[];
  /** Tenant to preselect (an invitation into a tenant). */
  tenantId?: string;
}

/** Progress of one sign-in, saved on the interaction so any server process can continue it. */
export interface Progress {
  accountIds: string[];
  amr: string[];
  /** True when the person authenticated in this interaction (a fresh login, counted in login_count). */
  fresh: boolean;
  accountId?: string;
  /** Chosen tenant; null when the account has no tenant. */
  tenantId?: string | null;
  consented?: boolean;
  /**
   * The relying party asked for two factors (`acr_values`) of a person already signed in with one: the sign-in
   * continues from the session's account and asks only for the second factor (step-up).
   */
  stepUp?: boolean;
}

/** One-shot message for the next page (post/redirect/get). */
export interface Flash {
  /** Catalogue texts (`i18n/text.ts`): the next page shows them in its language. */
  error?: Text;
  notice?: Text;
  identifier?: string;
  /** The name typed on the registration form. */
  name?: string;
}

/** Everything saved between the requests of one attempt. */
export interface AttemptState {
  progress?: Progress;
  /** Where a one-time code was asked to be sent (the code page shows it). */
  otp?: { identifier: string; channel: 'email' | 'sms'; /** When it was sent (ms): the page says when a new one may be asked for. */ sentAt?: number };
  /** Where a sign-in link was asked to be sent (the "check your email" page shows it). */
  link?: { identifier: string; sentAt?: number };
  /** A second-factor code was emailed in this attempt (the second-factor page then shows its field). */
  factorEmail?: boolean;
  /** A sign-in at an upstream identity provider in progress (`methods/upstream.ts`): its one-time checks. */
  upstream?: { connection: string; state: string; nonce: string; codeVerifier: string };
  /** "Not you?" was pressed: the session's account is not resumed; someone signs in afresh. */
  anotherAccount?: boolean;
  flash?: Flash;
}

/** The grant the finished sign-in records (OIDC Core §3.1.2.4: what the person agreed to share). */
export interface GrantRequest {
  accountId: string;
  tenantId: string | null;
}

/** A form's validated input, by its schema. */
export type FormInput<S extends { _zod: { output: unknown } }> = S['_zod']['output'];

export interface Attempt {
  readonly app: AppRecord;
  /** The interaction's id: codes and links are bound to it. */
  readonly uid: string;
  readonly client: ClientSummary;
  readonly request: RequestedSignIn;
  /** The provider's prompt: `login` when nobody is signed in, else consent / select_account. */
  readonly promptName: string;
  /** The account of the browser's current session, if any. */
  readonly sessionAccountId?: string;
  /** `amr` of the browser's current session (what it proved when it signed in). */
  readonly sessionAmr?: string[];
  /**
   * True when the provider asks for a login only because the session lacks the requested `acr` (step-up): the
   * session's account proves a second factor instead of signing in again.
   */
  readonly stepUpOnly?: boolean;
  /** Values of the browser's remembered-device cookies (`src/mfa/remembered-device.ts`), by cookie name. */
  readonly rememberedDevices?: Readonly<Record<string, string>>;
  /** Sets a remembered-device cookie on the response (httpOnly, the app's path). */
  rememberDevice?(name: string, value: string, maxAgeSeconds: number): void;
  readonly ip?: string;
  /**
   * The language of this attempt's pages (switcher, `ui_locales`, Accept-Language, app default: `i18n/choose-language.ts`):
   * messages to a person whose account has no `locale` go out in it.
   */
  readonly language?: string;
  /**
   * The tenant whose brand the attempt's pages wear (the chosen organisation, else `tenant=`), when known: the
   * messages the attempt sends wear it too, and the records behind their links keep its id for the pages they open.
   */
  readonly brandTenant?: TenantRecord;
  /** The browser's User-Agent (at most 300 characters), for the account's sign-in history. */
  readonly userAgent?: string;
  /** The app's issuer (from PUBLIC_URL): links in messages are built from it, never from a request's Host. */
  readonly issuer: string;
  /** The app's current signing secret for HMACs bound to this attempt (codes, CSRF). */
  readonly secret: string;
  readonly state: Readonly<AttemptState>;
  /** On a GET: the one-shot message the previous POST left (post/redirect/get); already cleared from the state. */
  readonly flash?: Flash;
  /** Saves part of the state (merged) for the next request of this attempt. */
  save(patch: Partial<AttemptState>): Promise<void>;
  /** Records scopes, claims and tenant on the grant and returns its id. */
  saveGrant(request: GrantRequest): Promise<string>;
}

/**
 * A page of an app reached from an emailed link, outside any interaction (invitation, sign-in link on another
 * device, password reset).
 */
export interface AppVisit {
  readonly app: AppRecord;
  readonly issuer: string;
  readonly ip?: string;
  /** The app's client, when it exists (for its name and `initiate_login_uri`). */
  findClient(clientId: string): Promise<ClientSummary | undefined>;
}

/** What the result of a sign-in hands to the provider (oidc-provider's interaction result). */
export interface SignInResult {
  login?: { accountId: string; amr: string[]; acr?: string; remember: boolean };
  consent?: { grantId: string };
  select_account?: Record<string, never>;
  error?: string;
  error_description?: string;
}

/**
 * What a step of the core answers; the web layer renders it:
 * - `page`: render a view (status 200 unless said; 429 carries `retryAfter`); outside an attempt, `brandTenantId`
 *   is the tenant whose brand the page wears (the one an emailed link's record names);
 * - `again`: back to a page of the attempt (303) with a one-shot message;
 * - `go`: on to a page of the attempt (303), `at` relative to the attempt (`''` is the attempt's main page);
 * - `finish`: hand the result to the provider, which sends the browser back to the authorization endpoint.
 */
export type Outcome =
  | { kind: 'page'; view: string; locals: Record<string, unknown>; status?: number; retryAfter?: number; formTargets?: string[]; scripts?: string[]; brandTenantId?: string }
  | { kind: 'again'; flash: Flash; at?: string }
  | { kind: 'go'; at: string }
  | { kind: 'finish'; result: SignInResult & Record<string, unknown> }
  /** Outside an interaction: 303 to a path of the app or to a relying party. */
  | { kind: 'redirect'; to: string }
  /**
   * A proven sign-in handed to this browser (`handoff.ts`): set its cookie, then 303 to `to`. A session of another
   * account in this browser is ended at once, unless `to` is a step that asks the person first (`askFirst`).
   */
  | { kind: 'handoff'; token: string; ttlSeconds: number; accountIds: string[]; to: string; askFirst?: boolean };

/** A page; `brandTenantId` (outside an attempt) names the tenant whose brand it wears. */
export const page = (view: string, locals: Record<string, unknown>, status?: number, brandTenantId?: string): Outcome => ({ kind: 'page', view, locals, status, ...(brandTenantId ? { brandTenantId } : {}) });
export const again = (flash: Flash, at?: string): Outcome => ({ kind: 'again', flash, at });
export const go = (at: string): Outcome => ({ kind: 'go', at });

/** Seconds until another code or link may be sent (the per-identifier wait that started at `sentAt`); 0 when it may now. */
export function secondsUntilResend(sentAt: number | undefined, resendAfter: number, now = Date.now()): number {
  if (sentAt === undefined) return 0;
  return Math.max(0, Math.ceil(resendAfter - (now - sentAt) / 1000));
}

/** True when the authorization request asked for the chooser (`prompt=select_account`, OIDC Core §3.1.2.1). */
export function selectionRequested(request: RequestedSignIn): boolean {
  return (request.prompt ?? '').split(' ').includes('select_account');
}
