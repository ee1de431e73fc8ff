/**
 * Entry point: configuration, connections, listen, graceful shutdown. Everything else is built in `app.ts`.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger, type Logger } from './log.js';
import { openStores } from './storage/select.js';

/**
 * A key for this process when ADMIN_API_KEY is not set, printed exactly once: this line is the only place it
 * appears. A key the operator supplied is never printed anywhere (it would end up in log storage).
 */
function generateAdminKey(log: Logger): string {
  const adminKey = randomBytes(24).toString('base64url');
  log.warn({ adminKey }, 'ADMIN_API_KEY is not set: generated an admin API key for this process (shown once)');
  return adminKey;
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const stores = await openStores(config, log);
  if (stores.embedded) log.warn({ store: stores.description }, 'using the embedded store: data is lost on restart; set MONGODB_URI / REDIS_URL for production');
  else log.info({ store: stores.description }, 'storage connected');
  // Secrets sealed by one process (client secrets, pending factor secrets) must open in the next one and in its
  // peers: on a shared store a per-process key fails them all with 503 secrets_key after a restart or on another node.
  if (!stores.embedded && !config.SECRETS_KEY) {
    log.warn({ store: stores.description }, 'SECRETS_KEY is not set: secrets stored now will not open after a restart or in another process; set it (32 bytes, base64 or hex) in production');
  }

  const adminKey = config.ADMIN_API_KEY ?? generateAdminKey(log);

  // Loaded after the store line so that line is the first thing a user reads.
  const { buildApp } = await import('./app.js');
  const portcullis = buildApp({ config, stores, log, adminKey });
  if (stores.embedded && config.SEED_DEMO) {
    const { seedDemo } = await import('./demo/seed.js');
    await seedDemo(portcullis, config, log);
  }
  // After the demo (which seeds only an empty store): the console app, and on its first start its first operator,
  // whose password (embedded store) or invitation is printed once. A store hiccup must not stop the server: the
  // console then sets itself up at its first request.
  await portcullis.console.start().catch((err) => log.error({ err }, 'the admin console could not be set up; it retries at its first request'));
  const server = createServer(portcullis.koa.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  log.info({ port, publicUrl: config.publicUrl.origin }, 'Portcullis is listening');
  let metricsServer: ReturnType<typeof createServer> | undefined;
  if (config.METRICS_PORT !== undefined) {
    const { metricsApp } = await import('./metrics/metrics-routes.js');
    metricsServer = createServer(metricsApp(portcullis.services.metrics, config.METRICS_TOKEN, log).callback());
    await new Promise<void>((resolve) => metricsServer!.listen(config.METRICS_PORT, config.HOST, resolve));
    log.info({ port: config.METRICS_PORT }, 'metrics are served on their own port');
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    // Requests in flight finish (each within the request deadline) before the stores they use are closed.
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    metricsServer?.close();
    await closed;
    await portcullis.services.hasher.drain();
    await portcullis.services.webhookWorker.stop().catch((err) => log.error({ err }, 'webhook worker stop failed'));
    await portcullis.services.messenger.close().catch((err) => log.error({ err }, 'messaging drain failed'));
    await stores.close().catch((err) => log.error({ err }, 'error while closing stores'));
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`Portcullis failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
