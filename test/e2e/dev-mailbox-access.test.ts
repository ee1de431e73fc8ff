/**
 * Issue 7 item 11: the dev mailbox shows sign-in codes and links, so it must not be readable from the network.
 * The embedded store listens on 127.0.0.1 by default, and the page answers only loopback callers unless
 * DEV_MAILBOX=true says otherwise. "From the network" is real here: the server listens on every interface and is
 * called on this machine's own non-loopback address, so the peer address it sees is not loopback.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { loadConfig } from '../../config/index.js';
import { buildApp, type Portcullis } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { openStores } from '../../src/storage/select.js';
import { spawnServer } from '../support/process.js';
import { AdminClient, ADMIN_KEY } from '../support/server.js';

/** An IPv4 address of this machine that is not loopback, if it has one. */
const lanAddress = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const withLan = lanAddress ? describe : describe.skip;
if (!lanAddress) console.log('dev mailbox network tests skipped: this machine has no non-loopback IPv4 address');

interface Running { port: number; portcullis: Portcullis; http: Server; close(): Promise<void> }

/** Portcullis on the embedded store, listening on all interfaces (as with HOST=0.0.0.0). */
async function startOnAllInterfaces(env: Record<string, string>): Promise<Running> {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '0.0.0.0', resolve));
  const { port } = http.address() as AddressInfo;
  const config = loadConfig({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', ...env });
  const log = createLogger('silent');
  const stores = await openStores(config, log);
  const portcullis = buildApp({ config, stores, log, adminKey: ADMIN_KEY });
  http.on('request', portcullis.koa.callback());
  const admin = new AdminClient(`http://127.0.0.1:${port}`);
  await admin.ok('POST', '/apps', { slug: 'mail', name: 'Mail' });
  await admin.ok('POST', '/apps/mail/invitations', { email: 'invitee@example.com' });
  return {
    port, portcullis, http,
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await portcullis.services.webhookWorker.stop();
      await portcullis.services.messenger.close();
      await stores.close();
    },
  };
}

const mailbox = (host: string, port: number, headers: Record<string, string> = {}) =>
  fetch(`http://${host}:${port}/apps/mail/dev/mailbox`, { headers: { accept: 'text/html', ...headers } });

const accepts = (host: string, port: number) => new Promise<boolean>((resolve) => {
  const socket = connect({ host, port });
  socket.once('connect', () => { socket.destroy(); resolve(true); });
  socket.once('error', () => resolve(false));
});

describe('listen address default', () => {
  it('is 127.0.0.1 on the embedded store and 0.0.0.0 with a real store; HOST wins', () => {
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ MONGODB_URI: 'mongodb://127.0.0.1:27017/p' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({}).DEV_MAILBOX).toBe('loopback');
    expect(() => loadConfig({ DEV_MAILBOX: 'yes please' })).toThrow(/DEV_MAILBOX/);
  });

  withLan('npm start on the embedded store is not reachable from the network', () => {
    it('accepts connections on 127.0.0.1 only', async () => {
      const server = await spawnServer({ HOST: '', PUBLIC_URL: '', ADMIN_API_KEY: '', MONGODB_URI: '', REDIS_URL: '' });
      try {
        expect(await accepts('127.0.0.1', server.port)).toBe(true);
        expect(await accepts(lanAddress!, server.port)).toBe(false);
      } finally {
        await server.stop();
      }
    }, 40_000);
  });
});

withLan('the dev mailbox page', () => {
  let loopbackOnly: Running;
  let open: Running;
  let proxied: Running;

  beforeAll(async () => {
    loopbackOnly = await startOnAllInterfaces({});
    open = await startOnAllInterfaces({ DEV_MAILBOX: 'true' });
    proxied = await startOnAllInterfaces({ TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await Promise.all([loopbackOnly, open, proxied].map((r) => r?.close()));
  });

  it('shows the invitation link to a caller on this machine', async () => {
    const res = await mailbox('127.0.0.1', loopbackOnly.port);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('invitee@example.com');
  });

  it('refuses a caller from the network with 403, showing nothing of the messages', async () => {
    const res = await mailbox(lanAddress!, loopbackOnly.port);
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).not.toContain('invitee@example.com');
    expect(html).toContain('DEV_MAILBOX=true');
    const json = await mailbox(lanAddress!, loopbackOnly.port, { accept: 'application/json' });
    expect(json.status).toBe(403);
    expect(await json.json()).toMatchObject({ error: 'forbidden' });
  });

  it('refuses a remote visitor relayed by a local reverse proxy (TRUST_PROXY)', async () => {
    const res = await mailbox('127.0.0.1', proxied.port, { 'x-forwarded-for': '203.0.113.7' });
    expect(res.status).toBe(403);
    expect((await mailbox('127.0.0.1', proxied.port)).status).toBe(200);
  });

  it('shows it to the network only when DEV_MAILBOX=true', async () => {
    const res = await mailbox(lanAddress!, open.port);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('invitee@example.com');
  });

  it('is not there at all with DEV_MAILBOX=false', async () => {
    const off = await startOnAllInterfaces({ DEV_MAILBOX: 'false' });
    try {
      expect((await mailbox('127.0.0.1', off.port)).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
