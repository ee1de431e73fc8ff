/**
 * Portcullis for the benchmark, built exactly as `src/main.ts` builds it (configuration from the environment, the
 * same store selection, `buildApp`, a plain node:http server), in its own process. The IPC channel only reports
 * this process's memory (after a forced GC when `--expose-gc` is on); it never runs code on the request path.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../config/index.js';
import { buildApp } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { openStores } from '../../src/storage/select.js';
import { serveCommands } from '../lib/proc.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
const stores = await openStores(config, log);
const portcullis = buildApp({ config, stores, log, adminKey: config.ADMIN_API_KEY! });
const server = createServer(portcullis.koa.callback());
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(config.PORT, '127.0.0.1', resolve));

const gc = (globalThis as { gc?: () => void }).gc;
serveCommands({
  memory: () => {
    gc?.();
    return { ...process.memoryUsage(), providers: portcullis.pool.size };
  },
}, { port: (server.address() as AddressInfo).port });
process.on('SIGTERM', async () => {
  server.close();
  server.closeAllConnections();
  await stores.close().catch(() => undefined);
  process.exit(0);
});
