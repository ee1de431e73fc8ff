/**
 * The account API: what the account center shows, as JSON, for portals that build their own screens. Below each app
 * at `/apps/{slug}/api/account/…`, with the person's access token (`bearer-token.ts`): `account:read` for reading,
 * `account:write` for changes. Documented in the Admin API's OpenAPI document under the tag `account-api`.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { AccountService } from '../accounts/account-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ClientService } from '../clients/client-service.js';
import { NotFoundError } from '../errors.js';
import { readJson, validate } from '../http/body.js';
import type { ProviderPool } from '../provider/provider-pool.js';
import { presentGrantView, presentSession, type AccountSessions } from '../sessions/account-sessions.js';
import type { Offboarding } from '../sessions/offboarding.js';
import { presentSignInAttempt, type SignInHistory } from '../sessions/sign-in-history.js';
import type { SupportPinService } from '../support-pin/support-pin-service.js';
import type { ExternalApiDoc } from '../admin/route-registry.js';
import type { AccountRecord } from '../storage/ports.js';
import { authenticate, requireScope, type AccountApiCaller, type AccountScope } from './bearer-token.js';
import { profilePatchSchema, recordIdParam } from './account-api-schemas.js';

export interface AccountApiDeps {
  pool: ProviderPool;
  accounts: AccountService;
  clients: ClientService;
  audit: AuditLog;
  sessions: AccountSessions;
  offboarding: Offboarding;
  history: SignInHistory;
  pins: SupportPinService;
}

interface Operation {
  method: 'get' | 'patch' | 'post' | 'delete';
  path: string;
  scope: AccountScope;
  summary: string;
  status?: number;
  body?: z.ZodType;
  handler: (caller: AccountApiCaller, ctx: Context, body: unknown) => Promise<unknown>;
}

/** The profile as the account API and the account center show it (the same names as the OIDC claims). */
export function presentProfile(account: AccountRecord) {
  return {
    sub: account.id,
    email: account.email ?? null,
    email_verified: account.emailVerified,
    phone_number: account.phone ?? null,
    phone_number_verified: account.phoneVerified,
    name: account.name ?? null,
    locale: account.locale ?? null,
    has_password: Boolean(account.passwordHash),
    updated_at: account.updatedAt.toISOString(),
  };
}

function operations(deps: AccountApiDeps): Operation[] {
  const who = (caller: AccountApiCaller, ctx: Context) => ({ by: 'account' as const, ip: ctx.state.ip as string | undefined });
  const idOf = (ctx: Context, name: string) => {
    const parsed = recordIdParam.safeParse(ctx.params[name]);
    if (!parsed.success) throw new NotFoundError(`No such ${name === 'sid' ? 'session' : 'grant'} for this account.`);
    return parsed.data;
  };
  return [
    { method: 'get', path: '/profile', scope: 'account:read', summary: 'The person\'s profile (the OIDC claims: email, phone, name, locale)',
      handler: async (caller) => presentProfile(caller.account) },
    { method: 'patch', path: '/profile', scope: 'account:write', body: profilePatchSchema,
      summary: 'Change name or preferred language (email and phone change through the account center, which verifies them)',
      handler: async (caller, ctx, body) => {
        const patch = body as z.output<typeof profilePatchSchema>;
        const account = await deps.accounts.update(caller.app, caller.account.id, patch);
        await deps.audit.record(caller.app, 'account.updated', { accountId: account.id, ip: ctx.state.ip as string | undefined, detail: { by: 'account', fields: Object.keys(patch).join(' ') } });
        return presentProfile(account);
      } },
    { method: 'get', path: '/sessions', scope: 'account:read', summary: 'Active sessions (created, last used, IP, browser, method; current = the token\'s own session)',
      handler: async (caller) => (await deps.sessions.sessions(caller.app, caller.account.id)).map((s) => presentSession(s, s.id === caller.sessionUid)) },
    { method: 'delete', path: '/sessions/:sid', scope: 'account:write', status: 204, summary: 'Sign one session out (its tokens end with it)',
      handler: async (caller, ctx) => {
        if (!(await deps.offboarding.endSession(caller.app, caller.account.id, idOf(ctx, 'sid'), who(caller, ctx)))) throw new NotFoundError('No such session for this account.');
      } },
    { method: 'get', path: '/grants', scope: 'account:read', summary: 'Connected apps: the clients holding grants, with scopes and tenant',
      handler: async (caller) => {
        const grants = await deps.sessions.grants(caller.app, caller.account.id);
        const names = new Map((await deps.clients.list(caller.app)).map((c) => [c.clientId, c.name]));
        return grants.map((g) => ({ ...presentGrantView(g), client_name: names.get(g.clientId) ?? null }));
      } },
    { method: 'delete', path: '/grants/:grant', scope: 'account:write', status: 204, summary: 'Revoke a connected app: its refresh and access tokens end',
      handler: async (caller, ctx) => {
        const grantId = idOf(ctx, 'grant');
        if (!(await deps.offboarding.revokeGrant(caller.app, caller.account.id, grantId, who(caller, ctx)))) throw new NotFoundError('No such grant for this account.');
      } },
    { method: 'get', path: '/sign-ins', scope: 'account:read', summary: 'The last 50 sign-in attempts, successful or not',
      handler: async (caller) => (await deps.history.list(caller.app, caller.account.id)).map(presentSignInAttempt) },
    { method: 'post', path: '/support-pin', scope: 'account:write', status: 201, summary: 'A new 6-digit support PIN, valid 24 hours (shown only in this answer)',
      handler: async (caller, ctx) => {
        const { pin, expiresAt } = await deps.pins.generate(caller.app, caller.account.id, ctx.state.ip as string | undefined);
        return { pin, expires_at: expiresAt.toISOString() };
      } },
  ];
}

export const ACCOUNT_API_PREFIX = '/api/account';

export function accountApiRouter(deps: AccountApiDeps): Router {
  const router = new Router({ prefix: '/apps/:slug' });
  for (const op of operations(deps)) {
    router[op.method](ACCOUNT_API_PREFIX + op.path, async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const pooled = await deps.pool.get(ctx.params.slug);
      if (!pooled) throw new NotFoundError(`No app "${ctx.params.slug}".`);
      const caller = await authenticate(ctx, pooled.provider, pooled.app, deps.accounts);
      requireScope(ctx, pooled.provider.issuer, caller, op.scope);
      const body = op.body ? validate(op.body, await readJson(ctx)) : undefined;
      const result = await op.handler(caller, ctx, body);
      ctx.status = op.status ?? 200;
      if (ctx.status !== 204) ctx.body = result;
    });
  }
  return router;
}

/** The account API's part of the OpenAPI document (`RouteRegistry.document`). */
export function accountApiDocument(): (origin: string) => ExternalApiDoc {
  return (origin) => {
    const paths: ExternalApiDoc['paths'] = {};
    // Only the operations' shapes are read here; their handlers (which need the services) never run.
    for (const op of operations({} as AccountApiDeps)) {
      const path = `/apps/{slug}${ACCOUNT_API_PREFIX}${op.path.replace(/:([a-z]+)/g, '{$1}')}`;
      const parameters = [...path.matchAll(/\{([a-z]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      const status = String(op.status ?? 200);
      const item = (paths[path] ??= { servers: [{ url: origin, description: 'Below each app: the app\'s issuer is {origin}/apps/{slug}' }] });
      item[op.method] = {
        summary: op.summary,
        tags: ['account-api'],
        security: [{ accountToken: [op.scope] }],
        parameters,
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input' }) } } } } : {}),
        responses: {
          [status]: { description: status === '204' ? 'No content' : 'Success' },
          ...(op.body ? { 400: { $ref: '#/components/responses/BadRequest' } } : {}),
          401: { description: 'No token, or an invalid, expired or revoked one (WWW-Authenticate: Bearer error="invalid_token", RFC 6750 §3.1)' },
          403: { description: `The token lacks the ${op.scope} scope (WWW-Authenticate: Bearer error="insufficient_scope")` },
          ...(path.includes('{sid}') || path.includes('{grant}') ? { 404: { $ref: '#/components/responses/NotFound' } } : {}),
        },
      };
    }
    return {
      paths,
      tag: { name: 'account-api', description: 'The account API: the person\'s own profile, sessions, connected apps, sign-in history and support PIN, with their access token (scopes account:read, account:write)' },
      securitySchemes: {
        accountToken: {
          type: 'oauth2',
          description: 'An access token of the app (issuer {origin}/apps/{slug}) requested with the account:read and/or account:write scopes',
          flows: { authorizationCode: { authorizationUrl: `${origin}/apps/{slug}/auth`, tokenUrl: `${origin}/apps/{slug}/token`, scopes: { 'account:read': 'Read the account', 'account:write': 'Change the account' } } },
        },
      },
    };
  };
}
