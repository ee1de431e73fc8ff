/**
 * A real Sentinel-managed Redis for tests: one primary, two replicas and three `redis-server --sentinel` processes
 * (quorum 2), on free loopback ports in a temporary directory, persistence off; `close()` kills all and removes it.
 *
 * `down-after-milliseconds 1000` (default 30000) so a failover takes a few seconds instead of half a minute; the
 * README states what a failover costs with both.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, killProcess, spawnRedisProcess } from './redis-server.js';

const HOST = '127.0.0.1';
export const MASTER_NAME = 'portcullis';
export const DOWN_AFTER_MS = 1_000;

export interface RedisSentinel {
  /** `redis-sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/portcullis`. */
  url: string;
  /** Ports of the data nodes (the first one starts as primary) and of the sentinels. */
  dataPorts: number[];
  sentinelPorts: number[];
  /** A direct connection to one process, closed by `close()`. */
  node(port: number): Redis;
  /** The primary's port, as the sentinels report it. */
  primaryPort(): Promise<number>;
  /** SIGKILL of one data node. */
  kill(port: number): Promise<void>;
  /** Resolves once the sentinels report a live primary other than `formerPort` (the failover is over). */
  waitForNewPrimary(formerPort: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(check: () => Promise<T | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check().catch(() => false as const);
    if (result !== false) return result;
    if (Date.now() > deadline) throw new Error(`Redis Sentinel: ${what} not reached in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** `SENTINEL MASTER` as a field → value map. */
async function masterInfo(sentinel: Redis): Promise<Record<string, string>> {
  const flat = (await sentinel.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
  const info: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) info[flat[i]] = flat[i + 1];
  return info;
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** Starts the setup; see the module comment. `downAfterMs` overrides {@link DOWN_AFTER_MS}. */
export async function startRedisSentinel(options: { downAfterMs?: number } = {}): Promise<RedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-sentinel-'));
  const processes = new Map<number, ChildProcess>();
  const connections = new Map<number, Redis>();
  const [primary, ...rest] = await distinctPorts(6);
  const dataPorts = [primary, rest[0], rest[1]];
  const sentinelPorts = rest.slice(2);

  const node = (port: number): Redis => {
    let client = connections.get(port);
    // A connection that ended is replaced (a sentinel kills client connections of the nodes it reconfigures).
    if (!client || client.status === 'end') {
      // disconnectTimeout: ioredis' 2 s socket-flush timer would otherwise keep the test process alive after close.
      client = new Redis({ host: HOST, port, maxRetriesPerRequest: 0, retryStrategy: () => null, ...({ disconnectTimeout: 100 } as object) });
      client.on('error', () => undefined);
      connections.set(port, client);
    }
    return client;
  };
  const close = async () => {
    for (const client of connections.values()) client.disconnect();
    await Promise.all([...processes.values()].map(killProcess));
    rmSync(dir, { recursive: true, force: true });
  };
  const startData = async (port: number, replicaOf?: number) => {
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir);
    processes.set(port, await spawnRedisProcess([
      '--port', String(port), '--bind', HOST, '--dir', nodeDir, '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--loglevel', 'notice',
      ...(replicaOf ? ['--replicaof', HOST, String(replicaOf)] : []),
    ], port));
  };
  const startSentinel = async (port: number) => {
    // A sentinel rewrites its configuration file (what it learned), so each gets its own writable one.
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(file, [
      `port ${port}`, `bind ${HOST}`, `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} ${HOST} ${primary} 2`,
      `sentinel down-after-milliseconds ${MASTER_NAME} ${options.downAfterMs ?? DOWN_AFTER_MS}`,
      `sentinel failover-timeout ${MASTER_NAME} 10000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
      '',
    ].join('\n'));
    processes.set(port, await spawnRedisProcess([file, '--sentinel', '--loglevel', 'notice'], port, 'Sentinel ID is'));
  };

  try {
    await startData(primary);
    await Promise.all([startData(rest[0], primary), startData(rest[1], primary)]);
    await Promise.all(sentinelPorts.map(startSentinel));
    // Every sentinel knows both replicas and the two other sentinels: a failover can then reach its quorum.
    await until(async () => {
      for (const port of sentinelPorts) {
        const info = await masterInfo(node(port));
        if (info['num-slaves'] !== '2' || info['num-other-sentinels'] !== '2') return false;
      }
      for (const port of dataPorts.slice(1)) {
        if (!String(await node(port).info('replication')).includes('master_link_status:up')) return false;
      }
      return true;
    }, 30_000, 'sentinels and replicas discovered');
  } catch (error) {
    await close();
    throw error;
  }

  const primaryPort = async () => {
    for (const port of sentinelPorts) {
      const address = (await node(port).call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME).catch(() => null)) as string[] | null;
      if (address) return Number(address[1]);
    }
    throw new Error('no sentinel answers');
  };

  return {
    url: `redis-sentinel://${sentinelPorts.map((p) => `${HOST}:${p}`).join(',')}/${MASTER_NAME}`,
    dataPorts,
    sentinelPorts,
    node,
    primaryPort,
    async kill(port) {
      connections.get(port)?.disconnect();
      connections.delete(port);
      await killProcess(processes.get(port)!);
    },
    async waitForNewPrimary(formerPort, timeoutMs = 20_000) {
      return until(async () => {
        const port = await primaryPort();
        if (port === formerPort) return false;
        return String(await node(port).info('replication')).includes('role:master') ? port : false;
      }, timeoutMs, 'a new primary');
    },
    close,
  };
}
