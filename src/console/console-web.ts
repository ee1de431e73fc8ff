/**
 * Web steps of the console routes: the operator behind the session cookie, the CSRF check of every form, the role
 * check of every change, and one way to answer a form (303 to the next page, or the page again with the problem).
 */
import type { Context, Next } from 'koa';
import { readForm } from '../http/body.js';
import { renderPage } from '../http/render-page.js';
import { fieldMessage } from '../i18n/field-messages.js';
import { ForbiddenError, PortcullisError } from '../errors.js';
import type { AccountRecord } from '../storage/ports.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { AccountService } from '../accounts/account-service.js';
import { CONSOLE_SLUG, type ConsoleSetup } from './console-app.js';
import type { ConsoleSession, ConsoleSessions } from './console-session.js';
import { consoleRole, mayDo, type ConsoleAction, type ConsoleRole } from './console-roles.js';

export const SESSION_COOKIE = 'console_session';
export const FLOW_COOKIE = 'console_flow';

export interface Operator {
  token: string;
  session: ConsoleSession;
  account: AccountRecord;
  role: ConsoleRole;
}

export function cookieOptions(secure: boolean, maxAgeMs?: number) {
  return { httpOnly: true, sameSite: 'lax' as const, path: '/console', secure, overwrite: true, ...(maxAgeMs ? { maxAge: maxAgeMs } : {}) };
}

export interface WebDeps {
  sessions: ConsoleSessions;
  setup: () => Promise<ConsoleSetup>;
  accounts: AccountService;
  tenants: TenantService;
  secure: boolean;
}

/**
 * The signed-in operator, checked on every request (so a deactivated account or a removed role takes effect at
 * once). Without one, a page shows the sign-in landing and a form post is refused.
 */
export function requireOperator(deps: WebDeps) {
  return async function operator(ctx: Context, next: Next) {
    const token = ctx.cookies.get(SESSION_COOKIE);
    const session = await deps.sessions.find(token);
    let found: Operator | undefined;
    if (session && token) {
      const { app, operators } = await deps.setup();
      const account = await deps.accounts.find(app, session.accountId);
      const membership = account?.status === 'active' ? await deps.tenants.membership(app, operators.id, account.id) : undefined;
      const role = membership ? consoleRole(membership.roles) : undefined;
      if (account && role) found = { token, session, account, role };
      else await deps.sessions.end(token);
    }
    if (!found) {
      if (token) ctx.cookies.set(SESSION_COOKIE, null, cookieOptions(deps.secure));
      if (ctx.method === 'GET' || ctx.method === 'HEAD') return renderPage(ctx, 'console/landing', { title: 'console:landing.title' }, { layout: 'console/_layout' });
      throw new ForbiddenError('console:error.signed_out');
    }
    ctx.state.operator = found;
    await next();
  };
}

export function operatorOf(ctx: Context): Operator {
  return ctx.state.operator as Operator;
}

/** Refuses with the 403 page unless the operator's role allows `action`. */
export function allow(ctx: Context, action: ConsoleAction): void {
  if (!mayDo(operatorOf(ctx).role, action)) throw new ForbiddenError('console:error.role');
}

/**
 * A form post: reads the form, checks the session's CSRF token (403 page when it does not match), checks the role,
 * then hands the fields to the route. Form posts answer 303 (RFC 9110 §15.4.4), so reloading repeats nothing.
 */
export function formPost(action: ConsoleAction, sessions: ConsoleSessions) {
  return async function csrfAndRole(ctx: Context, next: Next) {
    const raw = await readForm(ctx);
    const { session } = operatorOf(ctx);
    if (!sessions.csrfMatches(session, raw._csrf)) throw new ForbiddenError('console:error.csrf');
    // The console app's own tenant holds the console roles: changing anything in it is managing operators, or an
    // admin could make themselves owner through the ordinary app pages.
    allow(ctx, ctx.params?.slug === CONSOLE_SLUG && action === 'manage' ? 'manage_operators' : action);
    ctx.state.form = raw;
    await next();
  };
}

export function fieldsOf(ctx: Context): Record<string, string> {
  return ctx.state.form as Record<string, string>;
}

/** Renders a console page with the operator and the CSRF token every form carries. */
export function consolePage(ctx: Context, view: string, locals: Record<string, unknown>, status = 200): void {
  const operator = operatorOf(ctx);
  renderPage(ctx, `console/${view}`, {
    operator: { email: operator.account.email, role: operator.role },
    csrf: operator.session.csrf,
    mayManage: mayDo(operator.role, 'manage'),
    mayManageOperators: mayDo(operator.role, 'manage_operators'),
    issues: [],
    // A refused field's message in the page's language (the Admin API's own messages are English).
    fieldMessage,
    values: {},
    ...locals,
  }, { status, layout: 'console/_layout' });
}

/**
 * Runs a change; on success redirects (303) to `next`, on a refused input shows `again` (the form's page) with the
 * status of the refusal (400, 404, 409), the problem and the typed values, so nothing typed is lost.
 */
export async function change(ctx: Context, run: () => Promise<string>, again: (status: number, problem: Record<string, unknown>) => Promise<void>): Promise<void> {
  let next: string;
  try {
    next = await run();
  } catch (err) {
    if (!(err instanceof PortcullisError) || err.status >= 500 || err.status === 403) throw err;
    const error = err.status === 409 ? 'console:error.conflict' : err.status === 404 ? 'console:error.not_found' : 'console:error.invalid';
    return again(err.status, { error, details: err.error_description, issues: err.fields ?? [], values: fieldsOf(ctx) });
  }
  ctx.status = 303;
  ctx.redirect(next);
}
