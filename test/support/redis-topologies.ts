/**
 * The Redis topologies the Redis contract suites run against, each a real server (or servers) started for the
 * suite: one `redis-server`, a Redis Cluster of 3 primaries + 3 replicas, and a Sentinel setup (1 primary,
 * 2 replicas, 3 sentinels).
 */
import { randomUUID } from 'node:crypto';
import { createRedis, waitForRedis, type RedisClient } from '../../src/storage/redis/index.js';
import { startRedisCluster } from './redis-cluster.js';
import { startRedisSentinel } from './redis-sentinel.js';
import { startRedisServer } from './redis-server.js';

export interface RedisTopology {
  name: string;
  /** REDIS_CLUSTER for its URL. */
  cluster: boolean;
  start(): Promise<{ url: string; close(): Promise<void> }>;
}

export const REDIS_TOPOLOGIES: RedisTopology[] = [
  { name: 'redis', cluster: false, start: () => startRedisServer() },
  { name: 'redis cluster', cluster: true, start: () => startRedisCluster() },
  { name: 'redis sentinel', cluster: false, start: () => startRedisSentinel() },
];

/** Starts the topology, connects a client and hands out a key prefix of its own; `close` ends both. */
export async function connectTopology(topology: RedisTopology): Promise<{ client: RedisClient; prefix: string; close(): Promise<void> }> {
  const target = await topology.start();
  const client = createRedis(target.url, { cluster: topology.cluster, connectTimeoutMs: 2000 });
  try {
    await waitForRedis(client, 5000);
  } catch (error) {
    client.disconnect();
    await target.close();
    throw error;
  }
  return { client, prefix: `test:${randomUUID()}:`, close: async () => { client.disconnect(); await target.close(); } };
}
