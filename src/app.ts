/**
 * The composition root: builds every service from configuration and stores, wires routes in order, and returns
 * the Koa application. Nothing else constructs services, so every dependency is visible here.
 */
import Koa, { type Middleware } from 'koa';
import Router from '@koa/router';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { decodeKey, issuerFor } from '../config/index.js';
import type { Logger } from './log.js';
import type { Stores } from './storage/ports.js';
import { SecretBox } from './crypto/secret-box.js';
import { randomBytes } from 'node:crypto';
import { PasswordHasher } from './accounts/password.js';
import { AccountService } from './accounts/account-service.js';
import { AppService } from './apps/app-service.js';
import { ClientService } from './clients/client-service.js';
import { TenantService } from './tenants/tenant-service.js';
import { AuditLog } from './audit/audit-log.js';
import { RateLimiter } from './limits/rate-limiter.js';
import { requestFrame } from './http/request-frame.js';
import { languageSwitch } from './i18n/language-switch.js';
import { brandingRouter } from './branding/branding-routes.js';
import { clientIp } from './http/client-ip.js';
import { projectRoot } from './http/views.js';
import { ServiceUnavailableError } from './errors.js';
import { buildProvider } from './provider/provider-factory.js';
import { ProviderPool } from './provider/provider-pool.js';
import { canonicalHost, providerMount } from './provider/provider-mount.js';
import { appSide, chain, dispatchByPrefix } from './provider/app-dispatch.js';
import { adminRouter } from './admin/router.js';
import { AdminOperations } from './admin/operations.js';
import { buildConsole, type Console } from './console/console-routes.js';
import { appPagesRouter } from '../interactions/router.js';
import { createMessenger } from './messaging/index.js';
import type { Messenger } from './messaging/messenger.js';
import { devMailboxRouter } from './messaging/dev-mailbox.js';
import { registerOutboxRoutes } from './messaging/outbox-routes.js';
import { InvitationService } from './invitations/invitation-service.js';
import { registerInvitationRoutes } from './invitations/invitation-routes.js';
import type { SignInDeps } from './sign-in/deps.js';
import { PartnerService } from './partners/partner-service.js';
import { PartnerKeys } from './partners/partner-token.js';
import { PartnerRedemption } from './partners/partner-redemption.js';
import { registerPartnerRoutes } from './partners/partner-routes.js';
import { AdminKeyService } from './admin/admin-keys.js';
import { WebhookService } from './webhooks/webhook-service.js';
import { DeliveryWorker } from './webhooks/delivery-worker.js';
import { registerWebhookRoutes } from './webhooks/webhook-routes.js';
import { Metrics } from './metrics/metrics.js';
import { metricsEndpoint } from './metrics/metrics-routes.js';
import { FactorService } from './mfa/factor-service.js';
import { WebAuthnService } from './mfa/webauthn-service.js';
import { registerFactorRoutes } from './mfa/factor-routes.js';
import { ResourceService } from './resources/resource-service.js';
import { registerResourceRoutes } from './admin/resource-routes.js';
import { ConnectionService } from './connections/connection-service.js';
import { IdentityLinkService } from './connections/identity-links.js';
import { UpstreamClients } from './connections/upstream-client.js';
import { UpstreamAccounts } from './connections/upstream-accounts.js';
import { registerConnectionRoutes } from './connections/connection-routes.js';
import { SessionDetailsStore } from './sessions/session-details.js';
import { AccountSessions } from './sessions/account-sessions.js';
import { Offboarding } from './sessions/offboarding.js';
import { SignInHistory } from './sessions/sign-in-history.js';
import { registerSessionRoutes } from './sessions/session-routes.js';
import { SupportPinService } from './support-pin/support-pin-service.js';
import { registerSupportPinRoutes } from './support-pin/support-pin-routes.js';
import { accountApiDocument, accountApiRouter } from './account-api/account-api-router.js';
import { SelfService } from './account-center/self-service.js';
import { CenterClients } from './account-center/center-client.js';
import { CenterSessions } from './account-center/center-session.js';
import { accountCenterRouter } from './account-center/center-routes.js';
import { hmac } from './crypto/random.js';

export interface Portcullis {
  koa: Koa;
  services: Services;
  pool: ProviderPool;
  adminKey: string;
  /** The admin console at /console; `start()` creates its built-in `console` app (main.ts calls it at start). */
  console: Console;
}

export interface Services {
  apps: AppService;
  clients: ClientService;
  accounts: AccountService;
  tenants: TenantService;
  audit: AuditLog;
  limiter: RateLimiter;
  hasher: PasswordHasher;
  messenger: Messenger;
  invitations: InvitationService;
  partners: PartnerService;
  partnerRedemption: PartnerRedemption;
  adminKeys: AdminKeyService;
  webhooks: WebhookService;
  /** Sends the webhook outbox; started by `buildApp` (when WEBHOOK_WORKER_ENABLED), stopped on shutdown. */
  webhookWorker: DeliveryWorker;
  metrics: Metrics;
  factors: FactorService;
  resources: ResourceService;
  /** Upstream identity providers, their relying-party side, and the identities linked to accounts. */
  connections: ConnectionService;
  upstreamClients: UpstreamClients;
  upstreamAccounts: UpstreamAccounts;
  identityLinks: IdentityLinkService;
  /** Administrative operations shared by the Admin API and the admin console. */
  operations: AdminOperations;
  /** An account's sessions and grants (through the stores' account index), offboarding, sign-in history. */
  sessions: AccountSessions;
  offboarding: Offboarding;
  signInHistory: SignInHistory;
  supportPins: SupportPinService;
  /** What the account center lets a person change (profile, email, phone, password). */
  selfService: SelfService;
  /** The account center's first-party client per app, and its browser sessions. */
  centerClients: CenterClients;
  centerSessions: CenterSessions;
}

export interface BuildOptions {
  config: Config;
  stores: Stores;
  log: Logger;
  /** Admin API key; generated when the configuration has none. */
  adminKey: string;
}

/**
 * Every service, each given only what it declares. The provider pool is built here too: providers need the account,
 * tenant and client services, and the app service tells the pool when an app changed.
 */
export function buildServices(config: Config, stores: Stores, log: Logger): { services: Services; pool: ProviderPool } {
  // Without SECRETS_KEY a per-process key is only acceptable for the embedded store, whose data dies with the process.
  const secretKey = config.SECRETS_KEY ? decodeKey(config.SECRETS_KEY)! : randomBytes(32);
  const hasher = new PasswordHasher();
  const box = new SecretBox(secretKey);
  const clients = new ClientService(stores.clients, box);
  const accounts = new AccountService(stores.accounts, stores.tenants, hasher, (app, id) => stores.identityLinks.deleteByAccount(app.id, id));
  const tenants = new TenantService(stores.tenants, stores.accounts, async (app, slug) => (await stores.connections.find(app.id, slug)) !== undefined);
  const audit = new AuditLog(stores.audit, log, { retentionDays: config.AUDIT_RETENTION_DAYS });
  const messenger = createMessenger(config, stores.outbox, log.child({ component: 'messaging' }));
  const sessionDetails = new SessionDetailsStore(stores.ephemeral);
  const pool = new ProviderPool({
    apps: stores.apps,
    appKeys: stores.appKeys,
    size: config.PROVIDER_POOL_SIZE,
    versionCheckMs: config.APP_VERSION_CHECK_MS,
    build: (app, keys) =>
      buildProvider(app, keys, {
        config, oidcAdapter: stores.oidcAdapter, clientRepository: stores.clients, clients, accounts, tenants,
        resources: stores.resources, ephemeral: stores.ephemeral, sessionDetails,
        partnerGrant: { partners, partnerRedemption, trustProxy: config.TRUST_PROXY },
        onServerError: (a, err) => log.error({ err, app: a.slug }, 'provider error'),
      }),
  });
  const apps = new AppService(stores, {
    sessionTtlSeconds: config.SESSION_TTL_SECONDS,
    // Deliver only when a transport is configured: otherwise every message would fail.
    messagingMode: config.MESSAGING_MODE ?? (!stores.embedded && (config.SMTP_URL || config.SMS_HTTP_URL) ? 'deliver' : 'simulate'),
  }, (app) => pool.invalidate(app.slug), (app) => centerClients.create(app));
  const resources = new ResourceService({ resources: stores.resources, apps: stores.apps, clients: stores.clients, onChange: (app) => pool.invalidate(app.slug) });
  const invitations = new InvitationService({
    invitations: stores.invitations, accounts, tenants, clients, messenger, audit, ephemeral: stores.ephemeral, config,
  });
  const limiter = new RateLimiter(stores.ephemeral, config.RATE_LIMIT_ENABLED);
  const partners = new PartnerService(stores.partners, new SecretBox(secretKey), (app, clientId) => clients.require(app, clientId));
  const partnerRedemption = new PartnerRedemption({
    accounts, tenants, audit, limiter, ephemeral: stores.ephemeral, ipPerHour: config.RATE_LIMIT_IP_PER_HOUR,
    keys: new PartnerKeys((partner) => partners.secretOf(partner), config.PARTNER_JWKS_COOLDOWN_SECONDS),
  });
  const adminKeys = new AdminKeyService(stores.adminKeys);
  // Webhook events derive from audit events: the audit log hands each stored event to the outbox in the same step.
  const policy = { requireHttps: config.publicUrl.protocol === 'https:', allowPrivate: config.WEBHOOK_ALLOW_PRIVATE };
  const webhooks = new WebhookService({
    webhooks: stores.webhooks, deliveries: stores.webhookDeliveries, box, policy, onQueued: () => webhookWorker.wake(),
  });
  audit.setFanOut((scope, event) => webhooks.enqueue(scope, event));
  const metrics = new Metrics({
    webhookQueueDepth: () => stores.webhookDeliveries.countPending(),
    providerPoolSize: () => pool.size,
    providerPoolStats: () => pool.stats,
    redisRoundTrips: () => stores.redisRoundTrips(),
  });
  audit.observe((event) => metrics.observeAudit(event));
  stores.onCommand((store, seconds, ok) => metrics.observeStoreCommand(store, seconds, ok));
  const webhookWorker = new DeliveryWorker({
    deliveries: stores.webhookDeliveries, webhooks: stores.webhooks, apps: stores.apps, service: webhooks, audit, policy,
    log: log.child({ component: 'webhooks' }), retryBaseMs: config.WEBHOOK_RETRY_BASE_MS, pollMs: config.WEBHOOK_POLL_MS,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS, disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
    onAttempt: (outcome, latencyMs) => metrics.observeWebhookAttempt(outcome, latencyMs),
    onDisabled: async (app, webhook, failingSince) => {
      if (!app.settings.admin_contact) return;
      await messenger.send(app, { channel: 'email', to: app.settings.admin_contact, kind: 'webhook_disabled', locals: { url: webhook.url, failingSince: failingSince.toISOString() } });
    },
  });
  const webauthn = new WebAuthnService(stores.factors, stores.ephemeral, audit, config.publicUrl);
  const factors = new FactorService(stores.factors, new SecretBox(secretKey), stores.ephemeral, audit, webauthn);
  const connections = new ConnectionService(stores.connections, box);
  const identityLinks = new IdentityLinkService(stores.identityLinks, box);
  const upstreamClients = new UpstreamClients({ secretsOf: (c) => connections.secretsOf(c) });
  const upstreamAccounts = new UpstreamAccounts({ accounts, tenants, identityLinks });
  const sessions = new AccountSessions(stores.oidcAccountIndex, stores.oidcAdapter, sessionDetails);
  const offboarding = new Offboarding({ accounts, sessions, factors, audit, invitations: stores.invitations });
  const signInHistory = new SignInHistory(audit);
  const supportPins = new SupportPinService(stores.ephemeral, audit, secretKey);
  const selfService = new SelfService({ accounts, hasher, audit, messenger, ephemeral: stores.ephemeral, limiter, offboarding, secretKey });
  const centerClients = new CenterClients(clients, (app) => issuerFor(config, app.slug));
  const centerSessions = new CenterSessions(stores.ephemeral, hmac(secretKey, 'portcullis account center csrf'));
  const operations = new AdminOperations({ clients, accounts, tenants, audit, pool, sessions, offboarding, resetFactors: (app, id, by) => factors.reset(app, id, by) });
  return {
    services: {
      apps, clients, accounts, tenants, audit, limiter, hasher, messenger, invitations, partners, partnerRedemption, adminKeys, webhooks, webhookWorker,
      metrics, factors, resources, connections, upstreamClients, upstreamAccounts, identityLinks, sessions, offboarding, signInHistory, supportPins, selfService, centerClients, centerSessions,
      operations,
    },
    pool,
  };
}

export function buildApp({ config, stores, log, adminKey }: BuildOptions): Portcullis {
  const { services, pool } = buildServices(config, stores, log);
  const signIn: SignInDeps = {
    accounts: services.accounts, tenants: services.tenants, audit: services.audit, limiter: services.limiter, factors: services.factors,
    messenger: services.messenger, ephemeral: stores.ephemeral, lifetimes: config.lifetimes,
    ipPerHour: config.RATE_LIMIT_IP_PER_HOUR, publicUrl: config.publicUrl, log,
  };

  const koa = new Koa();
  koa.proxy = true; // protocol comes from X-Forwarded-Proto, which canonicalHost sets from PUBLIC_URL
  koa.use(canonicalHost(config.publicUrl));
  koa.use((ctx, next) => {
    ctx.state.ip = clientIp(ctx, config.TRUST_PROXY);
    return next();
  });
  // Headers, errors, the deadline and metrics in one async layer (see request-frame.ts).
  koa.use(requestFrame({ publicUrl: config.publicUrl, timeoutMs: config.REQUEST_TIMEOUT_MS, log, metrics: services.metrics }));
  koa.use(languageSwitch());

  const health = new Router();
  health.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  health.get('/readyz', async (ctx) => {
    const report = await stores.health();
    ctx.status = report.ok ? 200 : 503;
    ctx.body = { status: report.ok ? 'ready' : 'unavailable', checks: report.checks };
  });
  const stylesheet = readFileSync(path.join(projectRoot, 'views', 'assets', 'portcullis.css'));
  health.get('/assets/portcullis.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet;
  });
  // Passkey pages: @simplewebauthn/browser and our page script, same origin (CSP script-src 'self').
  const scripts: Record<string, Buffer> = {
    '/assets/webauthn-browser.js': readFileSync(path.join(projectRoot, 'node_modules', '@simplewebauthn', 'browser', 'dist', 'bundle', 'index.umd.min.js')),
    '/assets/passkey.js': readFileSync(path.join(projectRoot, 'views', 'assets', 'passkey.js')),
  };
  const favicon = readFileSync(path.join(projectRoot, 'views', 'assets', 'favicon.svg'));
  health.get('/assets/favicon.svg', (ctx) => {
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = favicon;
  });
  for (const [assetPath, body] of Object.entries(scripts)) {
    health.get(assetPath, (ctx) => {
      ctx.type = 'application/javascript';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = body;
    });
  }
  // With METRICS_PORT the metrics have their own listener (src/main.ts) and are not served here.
  const metrics = config.METRICS_PORT === undefined ? [metricsEndpoint(services.metrics, config.METRICS_TOKEN)] : [];

  const admin = adminRouter({
    services, stores, config, adminKey, pool, operations: services.operations,
    extend: (registry, helpers) => {
      registerOutboxRoutes(registry, helpers, stores.outbox);
      registerInvitationRoutes(registry, helpers, services.invitations);
      registerPartnerRoutes(registry, helpers, services.partners);
      registerWebhookRoutes(registry, helpers, services.webhooks);
      registerFactorRoutes(registry, helpers, { factors: services.factors, accounts: services.accounts });
      registerResourceRoutes(registry, helpers, { resources: services.resources, audit: services.audit });
      registerConnectionRoutes(registry, helpers, { connections: services.connections, identityLinks: services.identityLinks, accounts: services.accounts, audit: services.audit });
      registerSessionRoutes(registry, helpers, { accounts: services.accounts, sessions: services.sessions, offboarding: services.offboarding, history: services.signInHistory });
      registerSupportPinRoutes(registry, helpers, { accounts: services.accounts, pins: services.supportPins });
      registry.document(accountApiDocument());
    },
  });
  const adminConsole = buildConsole({ services, stores, config, log: log.child({ component: 'console' }) });
  const site = chain([health.routes(), ...metrics, admin.routes(), admin.allowedMethods(), adminConsole.router.routes(), adminConsole.router.allowedMethods()]);

  // The dev mailbox shows simulated messages of the embedded store only (never real deliveries), by default only to this machine.
  const mailbox = stores.embedded && config.DEV_MAILBOX !== 'false'
    ? devMailboxRouter({ apps: stores.apps, outbox: stores.outbox, anyone: config.DEV_MAILBOX === 'true' }) : undefined;
  // The pages Portcullis serves below /apps/{slug}; everything else there is the app's provider.
  const pages = appPagesRouter({
    ...signIn, pool, invitations: services.invitations, partners: services.partners, partnerRedemption: services.partnerRedemption,
    connections: services.connections, upstreamClients: services.upstreamClients, upstreamAccounts: services.upstreamAccounts,
  });
  const accountApi = accountApiRouter({
    pool, accounts: services.accounts, clients: services.clients, audit: services.audit, sessions: services.sessions,
    offboarding: services.offboarding, history: services.signInHistory, pins: services.supportPins,
  });
  const accountCenter = accountCenterRouter({
    pool, accounts: services.accounts, clients: services.clients, factors: services.factors, sessions: services.sessions,
    offboarding: services.offboarding, history: services.signInHistory, pins: services.supportPins, selfService: services.selfService,
    centerClients: services.centerClients, centerSessions: services.centerSessions, issuerOf: (app) => issuerFor(config, app.slug),
  });
  const pageRouters = [...(mailbox ? [mailbox] : []), brandingRouter({ apps: stores.apps, tenants: stores.tenants }), pages, accountApi, accountCenter];
  const appSideRequests = appSide(pageRouters, chain(pageRouters.map((r) => r.routes())), providerMount(pool));
  // Everything below /apps/ needs the stores: answered 503 at once while one is down.
  const appRequests: Middleware = (ctx, next) => {
    if (!stores.available()) throw new ServiceUnavailableError('storage');
    return appSideRequests(ctx, next);
  };
  // One prefix test sends a request to the app side or the site side, instead of matching every router in turn.
  koa.use(dispatchByPrefix('/apps/', appRequests, site));

  koa.on('error', (err) => log.debug({ err }, 'koa error'));
  if (config.WEBHOOK_WORKER_ENABLED) services.webhookWorker.start();
  return { koa, services, pool, adminKey, console: adminConsole };
}
