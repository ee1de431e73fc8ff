/**
 * Starts a real Portcullis HTTP server on a free loopback port, built exactly as `src/main.ts` builds it, with the
 * stores a test chooses (embedded by default).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../config/index.js';
import { buildApp, type Portcullis } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { openStores } from '../../src/storage/select.js';
import type { Stores } from '../../src/storage/ports.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface TestServer {
  url: string;
  config: Config;
  stores: Stores;
  portcullis: Portcullis;
  server: Server;
  admin: AdminClient;
  /** Stops the HTTP server, the webhook worker and the messenger; closes the stores only when it opened them. */
  close(): Promise<void>;
}

/**
 * Starts Portcullis on a free loopback port. `publicHost` is the host name of PUBLIC_URL (default 127.0.0.1;
 * `localhost` where a browser refuses an IP address, as WebAuthn does for its RP ID).
 */
export async function startServer(options: { env?: Record<string, string>; stores?: Stores; publicHost?: string } = {}): Promise<TestServer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.publicHost ?? '127.0.0.1'}:${port}`;
  const config = loadConfig({ PORT: String(port), PUBLIC_URL: url, ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', WEBHOOK_ALLOW_PRIVATE: 'true', ...options.env });
  const log = createLogger(config.LOG_LEVEL);
  // The same store selection as src/main.ts: embedded by default, Redis/Mongo when the env names them.
  const stores = options.stores ?? (await openStores(config, log));
  // A server given another server's stores (two processes sharing Redis/Mongo, in one test) leaves them to their owner.
  const ownsStores = !options.stores;
  const portcullis = buildApp({ config, stores, log, adminKey: ADMIN_KEY });
  server.on('request', portcullis.koa.callback());
  return {
    url,
    config,
    stores,
    portcullis,
    server,
    admin: new AdminClient(url),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      // argon2 work of requests cut off above still runs on the thread pool; the test process could not exit before it.
      await portcullis.services.hasher.drain();
      await portcullis.services.webhookWorker.stop();
      await portcullis.services.messenger.close();
      if (ownsStores) await stores.close();
    },
  };
}

/** Admin API calls as an operator would make them with curl. */
export class AdminClient {
  constructor(private readonly base: string, private readonly key = ADMIN_KEY) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.base}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const res = await this.call(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

let appCounter = 0;
/** Creates an app with a slug no other test uses (`{prefix}-{n}-{time}`) and returns the slug. */
export async function createUniqueApp(server: TestServer, prefix: string): Promise<string> {
  const slug = `${prefix}-${++appCounter}-${Date.now().toString(36)}`;
  await server.admin.ok('POST', '/apps', { slug, name: `App ${slug}` });
  return slug;
}
