/**
 * The built-in `console` app: the admin console signs operators in through Portcullis itself (a first-party client
 * of this app), and an operator's console role is their membership of the app's single tenant, `operators`. So
 * operators are managed like any account: on the console's Operators page or through the Admin API on `console`.
 *
 * Created at first start. Its first operator (`CONSOLE_ADMIN_EMAIL`) is an `owner`: on the embedded store with a
 * random password returned once (main.ts prints it, as it prints the demo account's); on a real store with an
 * invitation in the outbox (or sent by email), since a password printed to a production log would outlive the need.
 */
import type { Config } from '../../config/index.js';
import type { AccountService } from '../accounts/account-service.js';
import type { AppService } from '../apps/app-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ClientService } from '../clients/client-service.js';
import { randomId } from '../crypto/random.js';
import { ConflictError } from '../errors.js';
import type { InvitationService } from '../invitations/invitation-service.js';
import type { AppRecord, ClientRecord, TenantRecord } from '../storage/ports.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { CONSOLE_ROLES } from './console-roles.js';

export const CONSOLE_SLUG = 'console';
export const OPERATORS_TENANT = 'operators';
/** Where the console's relying party receives the authorization response. */
export const CALLBACK_PATH = '/console/callback';

export interface ConsoleAppDeps {
  apps: AppService;
  clients: ClientService;
  accounts: AccountService;
  tenants: TenantService;
  invitations: InvitationService;
  audit: AuditLog;
  config: Pick<Config, 'publicUrl' | 'CONSOLE_ADMIN_EMAIL'>;
  embedded: boolean;
}

/** What the console's relying party needs: the app, its tenant, and its client with the secret. */
export interface ConsoleSetup {
  app: AppRecord;
  operators: TenantRecord;
  client: ClientRecord;
  clientSecret: string;
  /** Set only on the start that created the first operator. */
  firstOperator?: { email: string; password?: string; invitationId?: string };
}

/** Finds or creates the console app, its tenant and its client; creates the first operator on the very first start. */
export async function ensureConsoleApp(deps: ConsoleAppDeps): Promise<ConsoleSetup> {
  const { apps, clients, tenants, config } = deps;
  const origin = config.publicUrl.origin;
  const redirectUri = `${origin}${CALLBACK_PATH}`;
  // Several processes may start at once on a shared store: whoever loses a creation race uses the winner's record.
  let created = false;
  const app = await apps.find(CONSOLE_SLUG) ?? await apps.create({
    slug: CONSOLE_SLUG,
    name: 'Portcullis console',
    // Operators are invited, never self-registered; the usual sign-in methods apply (and MFA when the app asks).
    settings: { registration: 'invite_only', login_methods: ['password', 'email_code'] },
  }).then((a) => {
    created = true;
    return a;
  }, (err) => lostRace(err, () => apps.find(CONSOLE_SLUG)));
  const operators = await tenants.find(app, OPERATORS_TENANT) ?? await tenants.create(app, {
    slug: OPERATORS_TENANT, name: 'Operators', role_names: { owner: 'Owner', admin: 'Admin', viewer: 'Viewer' },
  }).catch((err) => lostRace(err, () => tenants.find(app, OPERATORS_TENANT)));
  let client = (await clients.list(app)).find((c) => c.firstParty && c.redirectUris.some((u) => u.endsWith(CALLBACK_PATH)));
  if (!client) {
    client = (await clients.create(app, {
      name: 'Admin console', redirect_uris: [redirectUri], post_logout_redirect_uris: [`${origin}/console`], first_party: true,
    })).client;
  } else if (!client.redirectUris.includes(redirectUri)) {
    // PUBLIC_URL changed since the console was created: follow it.
    client = await clients.update(app, client.clientId, { redirect_uris: [redirectUri], post_logout_redirect_uris: [`${origin}/console`] });
  }
  const clientSecret = await secretOf(clients, app, client);
  const firstOperator = created ? await createFirstOperator(deps, app, operators, client) : undefined;
  return { app, operators, client, clientSecret, firstOperator };
}

/**
 * The console client's secret. When it cannot be decrypted (SECRETS_KEY changed, or was never set and this is a new
 * process on a kept store) the console gives itself a new one rather than stay locked out.
 */
async function secretOf(clients: ClientService, app: AppRecord, client: ClientRecord): Promise<string> {
  try {
    return String(clients.toMetadata(client).client_secret);
  } catch {
    return (await clients.rotateSecret(app, client.clientId)).secret;
  }
}

/** After a ConflictError (another process created the record first): that record. */
async function lostRace<T>(err: unknown, find: () => Promise<T | undefined>): Promise<T> {
  const found = err instanceof ConflictError ? await find() : undefined;
  if (!found) throw err;
  return found;
}

async function createFirstOperator(deps: ConsoleAppDeps, app: AppRecord, operators: TenantRecord, client: ClientRecord): Promise<ConsoleSetup['firstOperator']> {
  const email = deps.config.CONSOLE_ADMIN_EMAIL;
  const owner = CONSOLE_ROLES[0];
  if (deps.embedded) {
    const password = randomId(12);
    const account = await deps.accounts.create(app, { email, password, name: 'Console owner', email_verified: true });
    await deps.tenants.putMember(app, operators.id, account.id, [owner]);
    await deps.audit.record(app, 'account.created', { accountId: account.id, detail: { by: 'console_setup' } });
    return { email, password };
  }
  const invitation = await deps.invitations.create(app, { email, tenant: operators.id, roles: [owner], client_id: client.clientId });
  return { email, invitationId: invitation.id };
}
