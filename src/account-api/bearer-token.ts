/**
 * The account API's bearer-token check (RFC 6750): the person's access token, issued by this app's provider to any of
 * its clients, sent in the Authorization header (§2.1; never in the query string). The token must be one the
 * provider still knows (not expired, not revoked), its grant must still exist, and its account must still be usable
 * (active, and signed in after any "end every session" mark): the same rules as userinfo. Sender-constrained tokens
 * (DPoP, mTLS) are refused here, since this API does not check proofs.
 *
 * Failures answer 401 with `WWW-Authenticate: Bearer realm=…, error="invalid_token"` (§3.1), a missing token 401
 * with only the realm, and a token without the route's scope 403 `insufficient_scope` naming the scope.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountService } from '../accounts/account-service.js';
import { PortcullisError } from '../errors.js';
import type { AccountRecord, AppRecord } from '../storage/ports.js';

export const ACCOUNT_SCOPES = ['account:read', 'account:write'] as const;
export type AccountScope = (typeof ACCOUNT_SCOPES)[number];

export interface AccountApiCaller {
  app: AppRecord;
  account: AccountRecord;
  clientId: string;
  scopes: ReadonlySet<string>;
  /** The browser session the token was issued in, when there was one ("this device"). */
  sessionUid?: string;
}

export class BearerError extends PortcullisError {
  constructor(status: 401 | 403, error: string, description: string) {
    super(status, error, description);
  }
}

/** `Bearer realm="…"` plus the error attributes; quotes and backslashes cannot appear in our fixed texts. */
function challenge(realm: string, attributes: Record<string, string> = {}): string {
  return ['Bearer', [`realm="${realm}"`, ...Object.entries(attributes).map(([k, v]) => `${k}="${v}"`)].join(', ')].join(' ');
}

function refuse(ctx: Context, realm: string, status: 401 | 403, error: string | undefined, description: string, extra: Record<string, string> = {}): never {
  ctx.set('WWW-Authenticate', challenge(realm, error ? { error, error_description: description, ...extra } : {}));
  throw new BearerError(status, error ?? 'invalid_request', description);
}

/** Reads and checks the caller's token; throws the RFC 6750 answer when it does not do. */
export async function authenticate(ctx: Context, provider: Provider, app: AppRecord, accounts: AccountService): Promise<AccountApiCaller> {
  const realm = provider.issuer;
  const header = ctx.get('authorization');
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!header) refuse(ctx, realm, 401, undefined, 'An access token is required (Authorization: Bearer <token>).');
  if (!match) refuse(ctx, realm, 401, 'invalid_request', 'The Authorization header must be "Bearer <token>".');
  const caller = await checkAccessToken(provider, app, accounts, match[1]);
  if (caller === 'sender_constrained') refuse(ctx, realm, 401, 'invalid_token', 'Sender-constrained (DPoP or mTLS) tokens are not accepted by the account API.');
  if (!caller) refuse(ctx, realm, 401, 'invalid_token', 'The access token is invalid, expired or revoked.');
  return caller;
}

/**
 * The token's caller when the token is still good (see the module comment), else undefined; `sender_constrained`
 * for a DPoP- or certificate-bound token. Also used by the account center for its own token.
 */
export async function checkAccessToken(provider: Provider, app: AppRecord, accounts: AccountService, value: string): Promise<AccountApiCaller | 'sender_constrained' | undefined> {
  const token = await provider.AccessToken.find(value);
  if (!token || !token.accountId || !token.grantId) return undefined;
  if (token.isSenderConstrained()) return 'sender_constrained';
  const grant = await provider.Grant.find(token.grantId);
  if (!grant || grant.accountId !== token.accountId || grant.clientId !== token.clientId) return undefined;
  if (token.expiresWithSession && token.sessionUid && !(await provider.Session.findByUid(token.sessionUid))) return undefined;
  const account = await accounts.find(app, token.accountId);
  if (!account || account.status !== 'active') return undefined;
  const issuedAt = (token.iat ?? 0) * 1000;
  if (account.signInsValidFrom && issuedAt < account.signInsValidFrom.getTime()) return undefined;
  return { app, account, clientId: token.clientId!, scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)), sessionUid: token.sessionUid };
}

/** 403 insufficient_scope (RFC 6750 §3.1) unless the token carries `scope`; `account:write` implies reading. */
export function requireScope(ctx: Context, realm: string, caller: AccountApiCaller, scope: AccountScope): void {
  if (caller.scopes.has(scope) || (scope === 'account:read' && caller.scopes.has('account:write'))) return;
  refuse(ctx, realm, 403, 'insufficient_scope', `This request needs the ${scope} scope.`, { scope });
}
