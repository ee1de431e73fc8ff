/**
 * Webhook durability in the production shape (MongoDB, separate server processes): events queued while the receiver
 * is down survive `kill -9` of the process and are delivered after restart; with two processes sharing the outbox,
 * every event is delivered exactly once (leases). Needs a real mongod (PATH or MONGODB_URI); otherwise skipped with
 * one line, because an in-process store cannot outlive its process.
 */
import { Webhook } from 'standardwebhooks';
import { describeMongo, startMongo, uniqueDatabaseName, type MongoServer } from '../support/mongo.js';
import { freePort, spawnServer, withDatabase, type ServerProcess } from '../support/process.js';
import { AdminClient, ADMIN_KEY } from '../support/server.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import { createServer } from 'node:http';

describeMongo('webhook outbox across processes', () => {
  let mongo: MongoServer;
  const processes: ServerProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    mongo = (await startMongo())!;
    env = {
      MONGODB_URI: withDatabase(mongo.uri, uniqueDatabaseName('webhooks')),
      ADMIN_API_KEY: ADMIN_KEY,
      SECRETS_KEY: Buffer.alloc(32, 9).toString('base64'),
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_POLL_MS: '100',
      SEED_DEMO: 'false',
    };
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await mongo?.stop();
  });

  async function spawn(extra: Record<string, string> = {}): Promise<ServerProcess> {
    const port = await freePort();
    const p = await spawnServer({ ...env, PUBLIC_URL: `http://127.0.0.1:${port}`, PORT: String(port), ...extra });
    processes.push(p);
    return p;
  }

  it('delivers events queued before kill -9 once the process is back', async () => {
    const receiverPort = await freePort();
    const server = await spawn();
    const admin = new AdminClient(server.url);
    await admin.ok('POST', '/apps', { slug: 'durable', name: 'Durable' });
    // Nothing listens on the receiver's port yet: every attempt fails and the deliveries stay pending.
    const hook = await admin.ok('POST', '/apps/durable/webhooks', { url: `http://127.0.0.1:${receiverPort}/hook`, events: ['tenant.created'] });
    for (const n of [1, 2, 3]) await admin.ok('POST', '/apps/durable/tenants', { slug: `t${n}`, name: `T${n}` });
    await server.kill();

    const received: Array<{ id: string; body: string; headers: Record<string, string> }> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        received.push({ id: String(req.headers['webhook-id']), body, headers: req.headers as Record<string, string> });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));
    try {
      await server.start();
      const deadline = Date.now() + 30_000;
      while (new Set(received.map((r) => r.id)).size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const types = received.map((r) => (new Webhook(hook.secret).verify(r.body, r.headers) as { type: string }).type);
      expect(new Set(received.map((r) => r.id)).size).toBe(3);
      expect(new Set(types)).toEqual(new Set(['tenant.created']));
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 90_000);

  it('with two processes, every event is delivered exactly once', async () => {
    const receiver: Receiver = await startReceiver();
    try {
      const [a, b] = await Promise.all([spawn(), spawn()]);
      const admin = new AdminClient(a.url);
      await admin.ok('POST', '/apps', { slug: 'shared-hooks', name: 'Shared' });
      await admin.ok('POST', '/apps/shared-hooks/webhooks', { url: receiver.url, events: ['tenant.created'] });
      // Events from both processes; both workers poll the same outbox.
      for (let n = 0; n < 20; n++) await new AdminClient((n % 2 ? a : b).url).ok('POST', '/apps/shared-hooks/tenants', { slug: `s${n}`, name: `S${n}` });
      await receiver.waitFor(20, undefined, 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      const ids = receiver.received.map((r) => r.headers['webhook-id']);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
    } finally {
      await receiver.close();
    }
  }, 90_000);
});
