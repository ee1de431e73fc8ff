/**
 * A deployment on a shared store without SECRETS_KEY gets a per-process key: what one process seals, the next
 * cannot open. The start-up log says so, in the process an operator watches.
 */
import { spawnServer, type ServerProcess } from '../support/process.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
const started: ServerProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);
afterAll(async () => {
  for (const server of started) await server.stop();
  await redis?.close();
});

async function start(env: Record<string, string>): Promise<string> {
  const server = await spawnServer({ PUBLIC_URL: '', ADMIN_API_KEY: '', MONGODB_URI: '', REDIS_URL: redis.url, ...env });
  started.push(server);
  return server.output();
}

it('warns at start when a shared store runs without SECRETS_KEY, and not when it is set', async () => {
  expect(await start({ SECRETS_KEY: '' })).toContain('SECRETS_KEY is not set');
  expect(await start({ SECRETS_KEY: 'ab'.repeat(32) })).not.toContain('SECRETS_KEY is not set');
}, 90_000);
