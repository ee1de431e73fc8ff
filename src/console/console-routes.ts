/**
 * The admin console at `/console`: thin routes over the services the Admin API uses (and its shared operations,
 * `src/admin/operations.ts`), rendered server-side with no script. Sign-in is Portcullis's own OIDC flow on the
 * built-in `console` app (`console-relying-party.ts`); every page needs a console session, every form its CSRF
 * token, every change the `admin` role (operators: `owner`).
 */
import Router from '@koa/router';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../http/views.js';
import type { Context } from 'koa';
import type { Config } from '../../config/index.js';
import type { Logger } from '../log.js';
import { issuerFor } from '../../config/index.js';
import type { AppService } from '../apps/app-service.js';
import type { ClientService } from '../clients/client-service.js';
import type { AccountService } from '../accounts/account-service.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { InvitationService } from '../invitations/invitation-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { FactorService } from '../mfa/factor-service.js';
import type { AdminOperations } from '../admin/operations.js';
import type { WebhookService } from '../webhooks/webhook-service.js';
import type { AccountSessions } from '../sessions/account-sessions.js';
import { presentConnection, type ConnectionService } from '../connections/connection-service.js';
import type { IdentityLinkService } from '../connections/identity-links.js';
import { credentialsChecked, deleteConnection } from '../connections/connection-routes.js';
import { presentPartner, type PartnerService } from '../partners/partner-service.js';
import type { AppRecord, OutboxRepository } from '../storage/ports.js';
import type { EphemeralStore } from '../storage/ports.js';
import { ForbiddenError, NotFoundError, ServiceUnavailableError } from '../errors.js';
import { randomId, safeEqual } from '../crypto/random.js';
import { presentClient } from '../clients/client-service.js';
import { CONSOLE_SLUG, ensureConsoleApp, type ConsoleSetup } from './console-app.js';
import { ConsoleRelyingParty } from './console-relying-party.js';
import { ConsoleSessions, FLOW_SECONDS, SESSION_SECONDS } from './console-session.js';
import { CONSOLE_ROLES } from './console-roles.js';
import {
  FLOW_COOKIE, SESSION_COOKIE, change, consolePage, cookieOptions, fieldsOf, formPost, operatorOf, requireOperator,
} from './console-web.js';
import * as forms from './console-forms.js';

export interface ConsoleDeps {
  services: {
    apps: AppService; clients: ClientService; accounts: AccountService; tenants: TenantService; invitations: InvitationService;
    audit: AuditLog; operations: AdminOperations; factors: FactorService; webhooks: WebhookService; connections: ConnectionService;
    sessions: AccountSessions; partners: PartnerService; identityLinks: IdentityLinkService;
  };
  stores: { ephemeral: EphemeralStore; outbox: OutboxRepository; embedded: boolean; available(): boolean };
  config: Config;
  log: Logger;
}

/** A presented object as an editable JSON text area: the fields it does not set (`null`) left out, as a PATCH takes it. */
function editableJson(value: Record<string, unknown>): string {
  const kept = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
  return Object.keys(kept).length ? JSON.stringify(kept, null, 2) : '';
}

export interface Console {
  router: Router;
  /**
   * Creates the console app at first start (main.ts calls it; otherwise the first console request does) and prints
   * its first operator's password or invitation once; returns them once too (tests sign in with them).
   */
  start(): Promise<ConsoleSetup>;
}

export function buildConsole(deps: ConsoleDeps): Console {
  const { services, stores, config } = deps;
  let ready: Promise<ConsoleSetup> | undefined;
  const ensure = () => (ready ??= ensureConsoleApp({ ...services, config, embedded: stores.embedded }).then((done) => {
    announce(done.firstOperator);
    return done;
  }, (err) => {
    ready = undefined;
    throw err;
  }));
  /** The first operator's password (embedded store) or invitation is printed once, like the demo account's password. */
  const announce = (first: ConsoleSetup['firstOperator']) => {
    const url = `${config.publicUrl.origin}/console`;
    if (first?.password) {
      deps.log.info({ console: url, email: first.email, password: first.password },
        `Admin console ready: open ${url} and sign in as ${first.email} with password ${first.password}`);
    } else if (first) {
      deps.log.info({ console: url, email: first.email, invitation: first.invitationId },
        `Admin console ready: ${first.email} was sent an invitation to become its first operator`);
    }
  };
  /**
   * The console app as set up, checked against the store on each use (one read): if it was deleted or the store
   * was emptied, it is set up again (a new first operator, printed or invited as at first start) and the relying
   * party discovers its new client.
   */
  const setup = async (): Promise<ConsoleSetup> => {
    const current = await ensure();
    if ((await services.apps.find(CONSOLE_SLUG))?.id === current.app.id) return current;
    if (ready) ready = undefined;
    rp.forget();
    return ensure();
  };
  const origin = config.publicUrl.origin;
  const secure = config.publicUrl.protocol === 'https:';
  const sessions = new ConsoleSessions(stores.ephemeral, async () => (await setup()).app.id);
  const rp = new ConsoleRelyingParty(issuerFor(config, 'console'), origin, setup);
  const router = new Router({ prefix: '/console' });
  // Every console page needs the stores: 503 at once while one is down.
  router.use(async (_ctx, next) => {
    if (!stores.available()) throw new ServiceUnavailableError('storage');
    await next();
  });
  const signedIn = requireOperator({ sessions, setup, accounts: services.accounts, tenants: services.tenants, secure });
  const manage = formPost('manage', sessions);
  const manageOperators = formPost('manage_operators', sessions);
  const actor = (ctx: Context) => `console:${operatorOf(ctx).account.id}`;
  const appOf = (ctx: Context) => services.apps.require(String(ctx.params.slug));
  /** Every change made in the console, with who made it (OWASP ASVS V7.2), like the Admin API's `admin.change`. */
  const recordChange = async (ctx: Context, app: AppRecord, what: string) => {
    await services.audit.record(app, 'console.change', { actor: actor(ctx), ip: ctx.state.ip as string | undefined, detail: { what, path: ctx.path } });
  };

  const stylesheet = readFileSync(path.join(projectRoot, 'views', 'assets', 'console.css'));
  router.get('/console.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet;
  });

  // ---- sign-in, callback, sign-out ----
  router.get('/login', async (ctx) => {
    const { url, state, flow } = await rp.begin();
    const browser = randomId();
    await sessions.startFlow(state, { ...flow, browser });
    ctx.cookies.set(FLOW_COOKIE, browser, cookieOptions(secure, FLOW_SECONDS * 1000));
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const flow = state ? await sessions.takeFlow(state) : undefined;
    const browser = ctx.cookies.get(FLOW_COOKIE);
    ctx.cookies.set(FLOW_COOKIE, null, cookieOptions(secure));
    if (!flow || !browser || !safeEqual(browser, flow.browser)) throw new ForbiddenError('console:error.flow');
    if (typeof ctx.query.error === 'string') throw new ForbiddenError('console:error.sign_in_refused');
    const { accountId, idToken } = await rp.finish(new URL(ctx.originalUrl, origin), state, flow);
    const token = await sessions.start(accountId, idToken);
    ctx.cookies.set(SESSION_COOKIE, token, cookieOptions(secure, SESSION_SECONDS * 1000));
    ctx.redirect('/console');
  });

  router.post('/logout', signedIn, formPost('read', sessions), async (ctx) => {
    const { token, session } = operatorOf(ctx);
    await sessions.end(token);
    ctx.cookies.set(SESSION_COOKIE, null, cookieOptions(secure));
    ctx.status = 303;
    ctx.redirect((await rp.endSessionUrl(session.idToken)).href);
  });

  // ---- apps ----
  const home = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const apps = await services.apps.list();
    consolePage(ctx, 'home', { title: 'console:apps.title', apps, ...problem }, status);
  };
  router.get('/', signedIn, (ctx) => home(ctx));
  router.post('/apps', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await services.apps.create(forms.appCreateForm(fieldsOf(ctx)));
    await recordChange(ctx, app, 'app.created');
    return `/console/apps/${app.slug}`;
  }, (status, problem) => home(ctx, status, problem)));

  const appPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const flash = await sessions.takeFlash(operatorOf(ctx).token);
    consolePage(ctx, 'app', { title: app.name, current: app, issuer: issuerFor(config, app.slug), settingsJson: JSON.stringify(app.settings, null, 2), flash, ...problem }, status);
  };
  router.get('/apps/:slug', signedIn, (ctx) => appPage(ctx));
  router.post('/apps/:slug', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const updated = await services.apps.update(app.slug, forms.appUpdateForm(fieldsOf(ctx)));
    await recordChange(ctx, updated, 'app.updated');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:app.saved' });
    return `/console/apps/${app.slug}`;
  }, (status, problem) => appPage(ctx, status, problem)));
  router.post('/apps/:slug/keys/rotate', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await services.apps.rotateKeys((await appOf(ctx)).slug);
    await recordChange(ctx, app, 'app.keys_rotated');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:app.keys_rotated' });
    return `/console/apps/${app.slug}`;
  }, (status, problem) => appPage(ctx, status, problem)));

  // ---- client apps ----
  const clientsPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const clients = (await services.clients.list(app)).map(presentClient);
    consolePage(ctx, 'clients', { title: 'console:clients.title', current: app, clients, ...problem }, status);
  };
  router.get('/apps/:slug/clients', signedIn, (ctx) => clientsPage(ctx));
  router.post('/apps/:slug/clients', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const { client, secret } = await services.operations.createClient(app, forms.clientCreateForm(fieldsOf(ctx)), actor(ctx));
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:clients.created', ...(secret ? { secret: { label: 'console:clients.secret', value: secret } } : {}) });
    return `/console/apps/${app.slug}/clients/${client.clientId}`;
  }, (status, problem) => clientsPage(ctx, status, problem)));

  const clientPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const client = presentClient(await services.clients.require(app, String(ctx.params.clientId)));
    const flash = await sessions.takeFlash(operatorOf(ctx).token);
    consolePage(ctx, 'client', { title: client.name, current: app, client, flash, ...problem }, status);
  };
  router.get('/apps/:slug/clients/:clientId', signedIn, (ctx) => clientPage(ctx));
  router.post('/apps/:slug/clients/:clientId', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await services.operations.updateClient(app, String(ctx.params.clientId), forms.clientUrisForm(fieldsOf(ctx)));
    await recordChange(ctx, app, 'client.updated');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:client.saved' });
    return `/console/apps/${app.slug}/clients/${String(ctx.params.clientId)}`;
  }, (status, problem) => clientPage(ctx, status, problem)));
  router.post('/apps/:slug/clients/:clientId/secret', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const { client, secret } = await services.clients.rotateSecret(app, String(ctx.params.clientId));
    await recordChange(ctx, app, 'client.secret_rotated');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:client.rotated', secret: { label: 'console:clients.secret', value: secret } });
    return `/console/apps/${app.slug}/clients/${client.clientId}`;
  }, (status, problem) => clientPage(ctx, status, problem)));

  // ---- tenants and members ----
  const tenantsPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    consolePage(ctx, 'tenants', { title: 'console:tenants.title', current: app, tenants: await services.tenants.list(app), ...problem }, status);
  };
  router.get('/apps/:slug/tenants', signedIn, (ctx) => tenantsPage(ctx));
  router.post('/apps/:slug/tenants', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const tenant = await services.operations.createTenant(app, forms.tenantCreateForm(fieldsOf(ctx)), actor(ctx));
    return `/console/apps/${app.slug}/tenants/${tenant.slug}`;
  }, (status, problem) => tenantsPage(ctx, status, problem)));

  const membersOf = async (app: AppRecord, tenantRef: string) => {
    const members = await services.tenants.members(app, tenantRef);
    return Promise.all(members.map(async (m) => ({ accountId: m.accountId, roles: m.roles, email: (await services.accounts.find(app, m.accountId))?.email })));
  };
  const tenantPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const tenant = await services.tenants.require(app, String(ctx.params.tenant));
    consolePage(ctx, 'tenant', { title: tenant.name, current: app, tenant, members: await membersOf(app, tenant.id), ...problem }, status);
  };
  /** The one account of an email in an app; a 400 naming `email` when there is none (the operator sees all accounts). */
  const accountByEmail = async (app: AppRecord, email: string) => {
    const [account] = await services.accounts.findByEmail(app, email);
    if (!account) throw new NotFoundError('No account has this email in this app.');
    return account;
  };
  router.get('/apps/:slug/tenants/:tenant', signedIn, (ctx) => tenantPage(ctx));
  router.post('/apps/:slug/tenants/:tenant/members', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const { email, roles } = forms.memberAddForm(fieldsOf(ctx));
    const account = await accountByEmail(app, email);
    await services.operations.putMember(app, String(ctx.params.tenant), account.id, roles, actor(ctx));
    return `/console/apps/${app.slug}/tenants/${String(ctx.params.tenant)}`;
  }, (status, problem) => tenantPage(ctx, status, problem)));
  router.post('/apps/:slug/tenants/:tenant/members/remove', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await services.operations.removeMember(app, String(ctx.params.tenant), forms.accountIdOf(fieldsOf(ctx)), actor(ctx));
    return `/console/apps/${app.slug}/tenants/${String(ctx.params.tenant)}`;
  }, (status, problem) => tenantPage(ctx, status, problem)));

  // ---- accounts ----
  const accountsPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const { email } = forms.accountSearch(ctx.query);
    const accounts = await services.accounts.list(app, { ...(email ? { email: email.toLowerCase() } : {}), limit: 100 });
    consolePage(ctx, 'accounts', { title: 'console:accounts.title', current: app, accounts, search: email ?? '', ...problem }, status);
  };
  router.get('/apps/:slug/accounts', signedIn, (ctx) => accountsPage(ctx));
  router.post('/apps/:slug/accounts', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const account = await services.operations.createAccount(app, forms.accountCreateForm(fieldsOf(ctx)), actor(ctx));
    return `/console/apps/${app.slug}/accounts/${account.id}`;
  }, (status, problem) => accountsPage(ctx, status, problem)));

  const accountPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const account = await services.accounts.require(app, String(ctx.params.id));
    const [memberships, factors, browserSessions] = await Promise.all([
      services.tenants.membershipsOf(app, account.id), services.factors.list(app, account.id), services.sessions.sessions(app, account.id),
    ]);
    const flash = await sessions.takeFlash(operatorOf(ctx).token);
    consolePage(ctx, 'account', { title: account.email ?? account.id, current: app, account, memberships, factors, browserSessions, flash, ...problem }, status);
  };
  router.get('/apps/:slug/accounts/:id', signedIn, (ctx) => accountPage(ctx));
  router.post('/apps/:slug/accounts/:id/status', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await services.operations.updateAccount(app, String(ctx.params.id), forms.accountStatusForm(fieldsOf(ctx)), actor(ctx));
    return `/console/apps/${app.slug}/accounts/${String(ctx.params.id)}`;
  }, (status, problem) => accountPage(ctx, status, problem)));
  router.post('/apps/:slug/accounts/:id/factors/reset', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await services.operations.resetFactors(app, String(ctx.params.id), actor(ctx));
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:account.factors_reset' });
    return `/console/apps/${app.slug}/accounts/${String(ctx.params.id)}`;
  }, (status, problem) => accountPage(ctx, status, problem)));

  router.post('/apps/:slug/accounts/:id/sign-ins/end', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await services.operations.endSignIns(app, String(ctx.params.id), actor(ctx));
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:account.sign_ins_ended' });
    return `/console/apps/${app.slug}/accounts/${String(ctx.params.id)}`;
  }, (status, problem) => accountPage(ctx, status, problem)));

  // ---- invitations, outbox, audit ----
  const invitationsPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const flash = await sessions.takeFlash(operatorOf(ctx).token);
    const invitations = (await services.invitations.list(app)).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    consolePage(ctx, 'invitations', { title: 'console:invitations.title', current: app, invitations, flash, ...problem }, status);
  };
  router.get('/apps/:slug/invitations', signedIn, (ctx) => invitationsPage(ctx));
  router.post('/apps/:slug/invitations', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await services.invitations.create(app, forms.invitationForm(fieldsOf(ctx)));
    await recordChange(ctx, app, 'invitation.created');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:invitations.sent' });
    return `/console/apps/${app.slug}/invitations`;
  }, (status, problem) => invitationsPage(ctx, status, problem)));

  for (const [step, notice] of [['resend', 'console:invitations.resent'], ['revoke', 'console:invitations.revoked']] as const) {
    router.post(`/apps/:slug/invitations/${step}`, signedIn, manage, (ctx) => change(ctx, async () => {
      const app = await appOf(ctx);
      const id = forms.invitationIdOf(fieldsOf(ctx));
      if (step === 'resend') await services.invitations.resend(app, id);
      else await services.invitations.revoke(app, id);
      await recordChange(ctx, app, `invitation.${step}`);
      await sessions.flash(operatorOf(ctx).token, { notice });
      return `/console/apps/${app.slug}/invitations`;
    }, (status, problem) => invitationsPage(ctx, status, problem)));
  }
  router.get('/apps/:slug/outbox', signedIn, async (ctx) => {
    const app = await appOf(ctx);
    const messages = (await stores.outbox.list(app.id, 100)).reverse();
    consolePage(ctx, 'outbox', { title: 'console:outbox.title', current: app, messages });
  });
  router.get('/apps/:slug/audit', signedIn, async (ctx) => {
    const app = await appOf(ctx);
    const page = await services.audit.page(app, { limit: 100 });
    consolePage(ctx, 'audit', { title: 'console:audit.title', current: app, events: page.items });
  });

  // ---- webhooks and connections ----
  const webhooksPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const flash = await sessions.takeFlash(operatorOf(ctx).token);
    consolePage(ctx, 'webhooks', { title: 'console:webhooks.title', current: app, webhooks: await services.webhooks.list(app), flash, ...problem }, status);
  };
  router.get('/apps/:slug/webhooks', signedIn, (ctx) => webhooksPage(ctx));
  router.post('/apps/:slug/webhooks', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const { secret } = await services.webhooks.create(app, forms.webhookCreateForm(fieldsOf(ctx)));
    await recordChange(ctx, app, 'webhook.created');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:webhooks.created', secret: { label: 'console:webhooks.secret', value: secret } });
    return `/console/apps/${app.slug}/webhooks`;
  }, (status, problem) => webhooksPage(ctx, status, problem)));
  router.post('/apps/:slug/webhooks/delete', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await services.webhooks.delete(app, forms.webhookIdOf(fieldsOf(ctx)));
    await recordChange(ctx, app, 'webhook.deleted');
    return `/console/apps/${app.slug}/webhooks`;
  }, (status, problem) => webhooksPage(ctx, status, problem)));

  // ---- partners ----
  const issuerOf = (app: AppRecord) => issuerFor(config, app.slug);
  const partnersPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const partners = (await services.partners.list(app)).map((p) => presentPartner(p, issuerOf(app)));
    const flash = await sessions.takeFlash(operatorOf(ctx).token);
    consolePage(ctx, 'partners', { title: 'console:partners.title', current: app, partners, flash, ...problem }, status);
  };
  router.get('/apps/:slug/partners', signedIn, (ctx) => partnersPage(ctx));
  router.post('/apps/:slug/partners', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const partner = await services.partners.create(app, forms.partnerCreateForm(fieldsOf(ctx)));
    await recordChange(ctx, app, 'partner.created');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:partners.created' });
    return `/console/apps/${app.slug}/partners/${partner.slug}`;
  }, (status, problem) => partnersPage(ctx, status, problem)));

  const partnerPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const partner = presentPartner(await services.partners.require(app, String(ctx.params.partner)), issuerOf(app));
    const flash = await sessions.takeFlash(operatorOf(ctx).token);
    consolePage(ctx, 'partner', {
      title: partner.name, current: app, partner, flash, ...problem,
      claimMappingJson: editableJson(partner.claim_mapping), requiredClaimsJson: editableJson(partner.required_claims),
      // The default audience (the app's issuer) stays implicit, so it follows the issuer if PUBLIC_URL changes.
      audienceField: partner.audience === issuerOf(app) ? '' : partner.audience,
    }, status);
  };
  router.get('/apps/:slug/partners/:partner', signedIn, (ctx) => partnerPage(ctx));
  router.post('/apps/:slug/partners/:partner', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const partner = await services.partners.update(app, String(ctx.params.partner), forms.partnerUpdateForm(fieldsOf(ctx)));
    await recordChange(ctx, app, 'partner.updated');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:partner.saved' });
    return `/console/apps/${app.slug}/partners/${partner.slug}`;
  }, (status, problem) => partnerPage(ctx, status, problem)));
  router.post('/apps/:slug/partners/:partner/delete', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await services.partners.delete(app, String(ctx.params.partner));
    await recordChange(ctx, app, 'partner.deleted');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:partners.deleted' });
    return `/console/apps/${app.slug}/partners`;
  }, (status, problem) => partnersPage(ctx, status, problem)));

  // ---- upstream identity providers (connections) ----
  const connectionsPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const connections = (await services.connections.list(app)).map((c) => presentConnection(c, issuerOf(app)));
    const flash = await sessions.takeFlash(operatorOf(ctx).token);
    consolePage(ctx, 'connections', { title: 'console:connections.title', current: app, connections, flash, ...problem }, status);
  };
  router.get('/apps/:slug/connections', signedIn, (ctx) => connectionsPage(ctx));
  router.post('/apps/:slug/connections', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const connection = await credentialsChecked(() => services.connections.create(app, forms.connectionCreateForm(fieldsOf(ctx))));
    await recordChange(ctx, app, 'connection.created');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:connections.created' });
    return `/console/apps/${app.slug}/connections/${connection.slug}`;
  }, (status, problem) => connectionsPage(ctx, status, problem)));

  const connectionPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const app = await appOf(ctx);
    const connection = presentConnection(await services.connections.require(app, String(ctx.params.connection)), issuerOf(app));
    const flash = await sessions.takeFlash(operatorOf(ctx).token);
    consolePage(ctx, 'connection', {
      title: connection.display_name, current: app, connection, flash, ...problem, claimMappingJson: editableJson(connection.claim_mapping),
    }, status);
  };
  const connectionRef = (ctx: Context) => String(ctx.params.connection);
  router.get('/apps/:slug/connections/:connection', signedIn, (ctx) => connectionPage(ctx));
  router.post('/apps/:slug/connections/:connection', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await credentialsChecked(() => services.connections.update(app, connectionRef(ctx), forms.connectionUpdateForm(fieldsOf(ctx))));
    await recordChange(ctx, app, 'connection.updated');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:connection.saved' });
    return `/console/apps/${app.slug}/connections/${connectionRef(ctx)}`;
  }, (status, problem) => connectionPage(ctx, status, problem)));
  /** The list's switch: a connection's button shows on sign-in pages only while it is enabled. */
  router.post('/apps/:slug/connections/:connection/enabled', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    const enabled = forms.enabledOf(fieldsOf(ctx));
    await services.connections.update(app, connectionRef(ctx), { enabled });
    await recordChange(ctx, app, enabled ? 'connection.enabled' : 'connection.disabled');
    await sessions.flash(operatorOf(ctx).token, { notice: enabled ? 'console:connections.now_enabled' : 'console:connections.now_disabled' });
    return `/console/apps/${app.slug}/connections`;
  }, (status, problem) => connectionsPage(ctx, status, problem)));
  router.post('/apps/:slug/connections/:connection/delete', signedIn, manage, (ctx) => change(ctx, async () => {
    const app = await appOf(ctx);
    await deleteConnection(services, app, connectionRef(ctx));
    await recordChange(ctx, app, 'connection.deleted');
    await sessions.flash(operatorOf(ctx).token, { notice: 'console:connections.deleted' });
    return `/console/apps/${app.slug}/connections`;
  }, (status, problem) => connectionsPage(ctx, status, problem)));

  // ---- operators (owner) ----
  const operatorsPage = async (ctx: Context, status = 200, problem: Record<string, unknown> = {}) => {
    const { app, operators } = await setup();
    consolePage(ctx, 'operators', { title: 'console:operators.title', members: await membersOf(app, operators.id), roles: CONSOLE_ROLES, ...problem }, status);
  };
  router.get('/operators', signedIn, (ctx) => operatorsPage(ctx));
  router.post('/operators', signedIn, manageOperators, (ctx) => change(ctx, async () => {
    const { app, operators, client } = await setup();
    const { email, role } = forms.operatorAddForm(fieldsOf(ctx));
    const [account] = await services.accounts.findByEmail(app, email);
    if (account) await services.operations.putMember(app, operators.id, account.id, [role], actor(ctx));
    // A new operator gets an invitation (to set a password and sign in), with the role granted by it.
    else await services.invitations.create(app, { email, tenant: operators.id, roles: [role], client_id: client.clientId });
    await recordChange(ctx, app, 'operator.put');
    return '/console/operators';
  }, (status, problem) => operatorsPage(ctx, status, problem)));
  router.post('/operators/remove', signedIn, manageOperators, (ctx) => change(ctx, async () => {
    const { app, operators } = await setup();
    const accountId = forms.accountIdOf(fieldsOf(ctx));
    if (accountId === operatorOf(ctx).account.id) throw new ForbiddenError('console:error.self');
    await services.operations.removeMember(app, operators.id, accountId, actor(ctx));
    return '/console/operators';
  }, (status, problem) => operatorsPage(ctx, status, problem)));

  // A console URL that matches no route: the signed-out landing or the not-found page, never the provider.
  router.get('/{*rest}', signedIn, () => {
    throw new NotFoundError('console:error.page_not_found');
  });
  return {
    router,
    // The first operator's password is handed out once (main.ts prints it) and not kept in memory afterwards.
    start: async () => {
      const current = await setup();
      const { firstOperator } = current;
      delete current.firstOperator;
      return { ...current, firstOperator };
    },
  };
}
