/**
 * Redis connections for the ephemeral store and the OIDC adapter.
 *
 * Accepted URLs (user names and passwords are percent-encoded):
 * - `redis://[[user]:password@]host[:port][/db]` and `rediss://…` (TLS): one server.
 * - `redis://[[user]:password@]host1:port1,host2:port2` with `cluster: true`: Redis Cluster seed nodes.
 * - `redis-sentinel://[[user]:password@]host1:port1,host2:port2/masterName[/db]`: Sentinel. The hosts are the
 *   sentinels (default port 26379); the credentials are those of the master, not of the sentinels.
 *
 * Behaviour when Redis is away, so a request answers 503 instead of hanging, while the client keeps
 * reconnecting in the background with capped backoff and the process recovers by itself when Redis returns:
 * - no offline queue (`enableOfflineQueue: false`): a command issued while disconnected fails at once;
 * - commands in flight when the connection drops fail at once too (`maxRetriesPerRequest: 0`) and are never sent
 *   again after reconnecting (`autoResendUnfulfilledCommands: false`): they may already have run (an INCR, a
 *   single-use consume), and the request that sent them has answered 503 by then;
 * - every command has a deadline (`commandTimeout`, {@link DEFAULT_COMMAND_TIMEOUT_MS} unless configured), for a
 *   Redis that stops answering but keeps the TCP connection open.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../../log.js';

export type RedisClient = Redis | Cluster;

export interface CreateRedisOptions {
  /** Treat the URL's hosts as Redis Cluster seed nodes. */
  cluster: boolean;
  /** How long one connection attempt may take before it is abandoned and retried. */
  connectTimeoutMs: number;
  /**
   * Per-command deadline ({@link DEFAULT_COMMAND_TIMEOUT_MS} when omitted). Without one, a Redis that stops
   * answering (but keeps the TCP connection open) stalls requests until TCP keep-alive notices.
   */
  commandTimeoutMs?: number;
  /** Receives one warning when the connection is lost and one notice when it is back (not one per retry). */
  log?: Pick<Logger, 'warn' | 'info'>;
}

export interface RedisHost {
  host: string;
  port: number;
}

/** A parsed Redis URL. `redacted` is safe for logs and error messages: it never contains the password. */
export interface RedisTarget {
  kind: 'standalone' | 'cluster' | 'sentinel';
  hosts: RedisHost[];
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
  /** Sentinel master group name. */
  masterName?: string;
  redacted: string;
}

/** Where the redacted URL travels with the client, so {@link waitForRedis} can name it without the password. */
const TARGET = Symbol('portcullis.redisTarget');
type Described = { [TARGET]?: string };

const MAX_RETRY_DELAY_MS = 2_000;

/** Longest wait for one Redis reply: a healthy Redis answers in well under a millisecond on a LAN. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/**
 * Reconnect delay: exponential from 50 ms, capped at {@link MAX_RETRY_DELAY_MS}. Always a number, because
 * returning nothing would make ioredis give up for good and the process would never recover.
 */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 16), MAX_RETRY_DELAY_MS);
}

/** Parses `host:port` or `[ipv6]:port`. */
function parseHost(text: string, defaultPort: number): RedisHost {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  const [host, port, extra] = text.split(':');
  if (!host || extra !== undefined || (port !== undefined && !/^\d+$/.test(port))) {
    throw new Error(`invalid Redis host "${text}"`);
  }
  return { host, port: port ? Number(port) : defaultPort };
}

function parseDb(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d+$/.test(text)) throw new Error(`invalid Redis database "${text}"`);
  return Number(text);
}

/** Splits `[[user]:password@]` off the authority; the password may contain `@` only percent-encoded. */
function parseCredentials(authority: string): { credentials?: string; hostList: string } {
  const at = authority.lastIndexOf('@');
  return at < 0 ? { hostList: authority } : { credentials: authority.slice(0, at), hostList: authority.slice(at + 1) };
}

function decodeCredentials(credentials: string | undefined): { username?: string; password?: string } {
  if (credentials === undefined) return {};
  const colon = credentials.indexOf(':');
  if (colon < 0) return { password: decodeURIComponent(credentials) };
  const username = decodeURIComponent(credentials.slice(0, colon));
  return { username: username || undefined, password: decodeURIComponent(credentials.slice(colon + 1)) || undefined };
}

/**
 * Parses a Redis URL of any supported form (see the module comment). Query strings are not supported: every
 * option this service needs is expressed by the URL's parts.
 */
export function parseRedisUrl(url: string, cluster = false): RedisTarget {
  const match = /^(redis|rediss|redis-sentinel):\/\/([^/?#]*)(\/[^?#]*)?$/.exec(url);
  if (!match) throw new Error('Redis URL must look like redis://host:port, rediss://host:port or redis-sentinel://host:port/master');
  const [, scheme, authority, path = ''] = match;
  const { credentials, hostList } = parseCredentials(authority);
  const { username, password } = decodeCredentials(credentials);
  const sentinel = scheme === 'redis-sentinel';
  const hosts = hostList.split(',').filter(Boolean).map((h) => parseHost(h, sentinel ? 26379 : 6379));
  if (hosts.length === 0) throw new Error('Redis URL has no host');
  const segments = path.split('/').slice(1);

  let masterName: string | undefined;
  let db: number;
  if (sentinel) {
    masterName = segments[0] ? decodeURIComponent(segments[0]) : undefined;
    if (!masterName) throw new Error('redis-sentinel:// URL needs the master name: redis-sentinel://host:port/masterName');
    db = parseDb(segments[1]);
  } else {
    db = parseDb(segments[0]);
    if (hosts.length > 1 && !cluster) throw new Error('several Redis hosts need REDIS_CLUSTER=true or a redis-sentinel:// URL');
    // Redis Cluster has database 0 only (SELECT is refused): say so at start instead of ignoring the number.
    if (cluster && db !== 0) throw new Error('Redis Cluster has only database 0: remove the database from the URL');
  }

  const kind = sentinel ? 'sentinel' : cluster ? 'cluster' : 'standalone';
  const hostText = hosts.map((h) => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`)).join(',');
  const redactedPath = sentinel ? `/${masterName}/${db}` : `/${db}`;
  return { kind, hosts, tls: scheme === 'rediss', username, password, db, masterName, redacted: `${scheme}://${hostText}${redactedPath}` };
}

/**
 * How long `disconnect()` lets a closing socket flush before destroying it (ioredis default 2 s). ioredis arms that
 * timer even when the socket has already closed (Redis unreachable), and the timer keeps the process alive for its
 * whole length: with the default, a test worker that disconnected from an unreachable Redis outlived Jest's 500 ms
 * exit grace ("A worker process has failed to exit gracefully"). Ending a healthy connection takes far less.
 */
const DISCONNECT_TIMEOUT_MS = 200;

/** Options every connection shares, whatever the topology. */
function commonOptions(target: RedisTarget, opts: CreateRedisOptions): RedisOptions {
  return {
    // Read by ioredis (RedisOptions.js defaults) but missing from its type declarations.
    ...({ disconnectTimeout: DISCONNECT_TIMEOUT_MS } as RedisOptions),
    username: target.username,
    password: target.password,
    connectTimeout: opts.connectTimeoutMs,
    commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    tls: target.tls ? {} : undefined,
    // Commands issued in the same turn of the event loop (the parallel reads and writes of one request step) leave
    // in one write and are answered in one round trip. Each command keeps its own reply and error.
    enableAutoPipelining: true,
  };
}

function createStandalone(target: RedisTarget, opts: CreateRedisOptions): Redis {
  const [{ host, port }] = target.hosts;
  return new Redis({ ...commonOptions(target, opts), host, port, db: target.db });
}

/** A write answered by a replica: the server we are connected to was demoted by a failover. */
const isReadOnlyReply = (error: Error) => error.message.startsWith('READONLY');

function createSentinel(target: RedisTarget, opts: CreateRedisOptions): Redis {
  return new Redis({
    ...commonOptions(target, opts),
    sentinels: target.hosts,
    name: target.masterName,
    db: target.db,
    sentinelRetryStrategy: reconnectDelay,
    // After a failover the former primary may come back as a replica while we are still connected to it: reconnect
    // (asking the sentinels for the new primary) without re-sending the failed command (1, not 2). The request
    // that got READONLY has answered 503 already (see ./errors.ts).
    reconnectOnError: (error) => (isReadOnlyReply(error) ? 1 : false),
  });
}

/**
 * A Cluster client that fails at once, as a single server does, while it has lost the cluster altogether.
 * Commands to a node connection that is still being opened (ioredis opens one per node lazily, and again after a
 * slot move) wait for it instead: with ioredis' own `enableOfflineQueue: false` they were refused with "Connection is
 * closed." without being sent, a 503 for a person signing in while a slot was resharded.
 */
const CLUSTER_DOWN = new Set(['reconnecting', 'disconnecting', 'close', 'end']);

class FailFastCluster extends Cluster {
  override sendCommand(...args: Parameters<Cluster['sendCommand']>): unknown {
    const [command] = args;
    if (CLUSTER_DOWN.has(this.status)) {
      command.reject(new Error(`Redis Cluster is not ready (${this.status})`));
      return command.promise;
    }
    return super.sendCommand(...args);
  }
}

function createCluster(target: RedisTarget, opts: CreateRedisOptions): Cluster {
  // Cluster manages per-node reconnection itself; it rejects retryStrategy/enableOfflineQueue inside redisOptions.
  const { retryStrategy: _r, enableOfflineQueue: _e, enableAutoPipelining: _p, ...redisOptions } = commonOptions(target, opts);
  const options: ClusterOptions = {
    redisOptions,
    // Auto-pipelining groups commands per node; while a slot migrates, a pipeline whose keys are ASK-redirected
    // answered 503 in the resharding test. A cluster sends commands one by one.
    enableAutoPipelining: false,
    // Queues only for node connections being opened (FailFastCluster refuses while the cluster itself is down); each
    // command still ends within the command timeout, and the per-node `maxRetriesPerRequest: 0` fails it at once
    // when its node's connection drops.
    enableOfflineQueue: true,
    clusterRetryStrategy: reconnectDelay,
    // Reads go to primaries only: a single-use code or a counter read from a lagging replica could be stale.
    scaleReads: 'master',
    // A command whose node connection closed may already have run there (an INCR, a single-use consume): never
    // re-send it to another node after a failover, as for a single server (`autoResendUnfulfilledCommands`). It
    // fails at once (503) and the next request finds the new primary through MOVED. MOVED, ASK, TRYAGAIN and
    // CLUSTERDOWN are still retried: those replies mean the command did not run.
    retryDelayOnFailover: 0,
    // A save over several keys of a slot being migrated is answered TRYAGAIN until the migration ends; the adapter
    // then saves key by key (see `oidc-adapter.ts`). Short waits make the client give up on the script sooner
    // (after about 16 redirections) instead of holding a sign-in for most of a second.
    retryDelayOnTryAgain: 25,
  };
  return new FailFastCluster(target.hosts, options as ConstructorParameters<typeof FailFastCluster>[1]);
}

/** Logs transitions only: a Redis outage must not flood the log with one line per reconnect attempt. */
function watchConnection(client: RedisClient, redacted: string, log: CreateRedisOptions['log']): void {
  let up = true;
  // An 'error' listener is mandatory: without one, ioredis prints every connection error to stderr itself.
  client.on('error', (error: Error) => {
    if (!up) return;
    up = false;
    log?.warn({ err: error, redis: redacted }, 'Redis connection lost; reconnecting in the background');
  });
  client.on('ready', () => {
    if (up) return;
    up = true;
    log?.info({ redis: redacted }, 'Redis connection restored');
  });
}

/**
 * Creates a client for the URL. It starts connecting immediately; use {@link waitForRedis} to wait for it at
 * start-up.
 */
export function createRedis(url: string, opts: CreateRedisOptions): RedisClient {
  const target = parseRedisUrl(url, opts.cluster);
  const client: RedisClient =
    target.kind === 'cluster' ? createCluster(target, opts)
      : target.kind === 'sentinel' ? createSentinel(target, opts)
        : createStandalone(target, opts);
  (client as Described)[TARGET] = target.redacted;
  watchConnection(client, target.redacted, opts.log);
  return client;
}

/** The client's address without credentials, for messages. */
export function describeRedis(client: RedisClient): string {
  const described = (client as Described)[TARGET];
  if (described) return described;
  if (client instanceof Redis) return `redis://${client.options.host ?? 'localhost'}:${client.options.port ?? 6379}`;
  return 'the configured Redis cluster';
}

/**
 * Resolves once the client is ready; rejects with `cannot reach Redis at <url without password>` after
 * `timeoutMs`. The client keeps reconnecting either way: the caller decides whether to exit or serve 503s.
 */
export function waitForRedis(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error) => { lastError = error; };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
    };
    const onReady = () => { cleanup(); resolve(); };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`cannot reach Redis at ${describeRedis(client)}`, { cause: lastError }));
    }, timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
  });
}
