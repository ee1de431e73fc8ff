/**
 * A real Redis Cluster for tests: 3 primaries + 3 replicas of Debian's `redis-server` on free loopback ports, in a
 * temporary directory, joined with `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`. Persistence
 * is off; everything is killed and removed by `close()`.
 *
 * Settings that differ from Redis' defaults, and why:
 * - `cluster-node-timeout 1000` (default 15000): a failover takes ~2 s instead of ~16 s, so the failover tests stay
 *   short. Production keeps its own value; the README states what a failover costs for both.
 * - `cluster-require-full-coverage no`: while one primary is down, the other primaries keep serving their slots
 *   (the default answers CLUSTERDOWN for every slot, i.e. every app, until the failover is over).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, killProcess, spawnRedisProcess } from './redis-server.js';

const HOST = '127.0.0.1';
const NODES = 6;
export const CLUSTER_NODE_TIMEOUT_MS = 1_000;

export interface ClusterNode {
  port: number;
  /** The node id (CLUSTER MYID). */
  id: string;
  alive: boolean;
}

export interface RedisCluster {
  /** `redis://127.0.0.1:p1,127.0.0.1:p2,…`: use with `REDIS_CLUSTER=true`. */
  url: string;
  nodes: ClusterNode[];
  /** A direct connection to one node (not cluster-aware), closed by `close()`. */
  node(port: number): Redis;
  /** The port of the primary currently serving `slot`, as a live node sees it. */
  primaryOf(slot: number): Promise<number>;
  /** The hash slot of a key (`CLUSTER KEYSLOT`). */
  keySlot(key: string): Promise<number>;
  /** Resolves once every live node reports `port` as the primary of `slot` (gossip reached the replicas too). */
  waitForOwner(slot: number, port: number, timeoutMs?: number): Promise<void>;
  /** SIGKILL of one node: a crash, as a failing machine does. */
  kill(port: number): Promise<void>;
  /** Resolves once every live node reports `cluster_state:ok` and every slot has a live primary. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function redisCli(args: string[]): string {
  const run = spawnSync('redis-cli', args, { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} not reached in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** `CLUSTER SLOTS` → [start, end, primary port] for every range. */
async function slotRanges(client: Redis): Promise<Array<[number, number, number]>> {
  const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
  return slots.map(([start, end, primary]) => [start, end, Number(primary[1])]);
}

/** Starts the cluster; see the module comment. `nodeTimeoutMs` overrides {@link CLUSTER_NODE_TIMEOUT_MS}. */
export async function startRedisCluster(options: { nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-cluster-'));
  const processes = new Map<number, ChildProcess>();
  const connections = new Map<number, Redis>();
  const nodes: ClusterNode[] = [];

  const node = (port: number): Redis => {
    let client = connections.get(port);
    // A connection that ended is replaced (a sentinel kills client connections of the nodes it reconfigures).
    if (!client || client.status === 'end') {
      // disconnectTimeout: ioredis' 2 s socket-flush timer would otherwise keep the test process alive after close.
      client = new Redis({ host: HOST, port, maxRetriesPerRequest: 0, retryStrategy: () => null, ...({ disconnectTimeout: 100 } as object) });
      client.on('error', () => undefined); // a killed node: the test asks other nodes
      connections.set(port, client);
    }
    return client;
  };
  const live = () => nodes.filter((n) => n.alive);
  const close = async () => {
    for (const client of connections.values()) client.disconnect();
    await Promise.all([...processes.values()].map(killProcess));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Each node listens on its port and on a cluster bus port, by default port + 10000: a free port picked for one
    // node could be another node's bus (and port + 10000 may not even exist), so the bus ports are picked too.
    const picked: number[] = [];
    while (picked.length < 2 * NODES) {
      const port = await freePort();
      if (!picked.includes(port)) picked.push(port);
    }
    const ports = picked.slice(0, NODES);
    await Promise.all(ports.map(async (port, i) => {
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      processes.set(port, await spawnRedisProcess([
        '--port', String(port), '--cluster-port', String(picked[NODES + i]), '--bind', HOST, '--dir', nodeDir, '--save', '', '--appendonly', 'no',
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? CLUSTER_NODE_TIMEOUT_MS), '--cluster-require-full-coverage', 'no',
        '--daemonize', 'no', '--loglevel', 'notice',
      ], port, 'Ready to accept connections'));
    }));
    // --cluster-yes accepts the proposed layout (replicas share the host with their primaries: loopback only).
    redisCli(['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
    for (const port of ports) nodes.push({ port, id: String(await node(port).call('CLUSTER', 'MYID')), alive: true });
  } catch (error) {
    await close();
    throw error;
  }

  const cluster: RedisCluster = {
    url: `redis://${nodes.map((n) => `${HOST}:${n.port}`).join(',')}`,
    nodes,
    node,
    async primaryOf(slot) {
      for (const candidate of live()) {
        const ranges = await slotRanges(node(candidate.port)).catch(() => undefined);
        const range = ranges?.find(([start, end]) => slot >= start && slot <= end);
        if (range) return range[2];
      }
      throw new Error(`no live node knows slot ${slot}`);
    },
    async keySlot(key) {
      return Number(await node(live()[0].port).call('CLUSTER', 'KEYSLOT', key));
    },
    async waitForOwner(slot, port, timeoutMs = 10_000) {
      await until(async () => {
        for (const n of live()) {
          const range = (await slotRanges(node(n.port))).find(([start, end]) => slot >= start && slot <= end);
          if (range?.[2] !== port) return false;
        }
        return true;
      }, timeoutMs, `slot ${slot} served by ${port} in every node's view`);
    },
    async kill(port) {
      const target = nodes.find((n) => n.port === port);
      if (!target) throw new Error(`no cluster node on port ${port}`);
      target.alive = false;
      connections.get(port)?.disconnect();
      connections.delete(port);
      await killProcess(processes.get(port)!);
    },
    async waitHealthy(timeoutMs = 15_000) {
      const alivePorts = new Set(live().map((n) => n.port));
      await until(async () => {
        for (const n of live()) {
          const info = String(await node(n.port).call('CLUSTER', 'INFO'));
          if (!info.includes('cluster_state:ok')) return false;
          const ranges = await slotRanges(node(n.port));
          const covered = ranges.reduce((sum, [start, end]) => sum + end - start + 1, 0);
          if (covered !== 16384 || ranges.some(([, , primary]) => !alivePorts.has(primary))) return false;
        }
        return true;
      }, timeoutMs, 'a healthy cluster');
    },
    close,
  };
  try {
    await cluster.waitHealthy();
    // Replicas in sync, so a failover test starts from a cluster whose replicas can take over.
    await until(async () => {
      for (const n of live()) {
        const info = String(await node(n.port).call('INFO', 'replication'));
        if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
      }
      return true;
    }, 10_000, 'replicas in sync');
  } catch (error) {
    await close();
    throw error;
  }
  return cluster;
}
