/**
 * A real `redis-server` for tests: started on a free port in a temporary directory, with persistence off, so
 * tests exercise real TTLs, atomicity and reconnection instead of a mock.
 *
 * Which server a test gets, in order:
 * 1. `REDIS_URL` set: that server (external; `stop`/`start` throw, nothing is flushed — tests use unique key
 *    prefixes).
 * 2. `PORTCULLIS_TEST_REDIS_URL` set (by {@link redisGlobalSetup}) and the test does not need to restart Redis:
 *    the shared server of the whole run.
 * 3. Otherwise a private server for this test file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  url: string;
  /** False when the server is not ours (REDIS_URL or the shared one): `stop`/`start` are unavailable. */
  owned: boolean;
  /** Kills the server (SIGTERM), leaving the port free; clients see a connection loss. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (no persistence). */
  start(): Promise<void>;
  /** Stops the server if it is ours and removes its directory; a no-op for external servers. */
  close(): Promise<void>;
}

const SHARED_URL_ENV = 'PORTCULLIS_TEST_REDIS_URL';
const READY_TIMEOUT_MS = 10_000;

export function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) {
    throw new Error('redis-server is not installed (apt-get install redis-server), or set REDIS_URL to an existing server');
  }
  return path;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves when redis-server logs that it accepts connections (or `marker`: a sentinel logs its id instead);
 * rejects if it exits or stays silent.
 */
export function waitUntilReady(child: ChildProcess, port: number, marker = 'Ready to accept connections'): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server on port ${port} not ready after ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(marker)) done();
    };
    const onExit = (code: number | null) => fail(new Error(`redis-server exited with ${code}:\n${output}`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    function done() { cleanup(); resolve(); }
    function fail(error: Error) { cleanup(); child.kill('SIGKILL'); reject(error); }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

export function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function externalServer(url: string): RedisServer {
  const unavailable = async () => { throw new Error(`cannot stop or start the external Redis at ${url}`); };
  return { url, owned: false, stop: unavailable, start: unavailable, close: async () => {} };
}

/** Spawns a private redis-server; see the module comment. */
export async function spawnRedisServer(): Promise<RedisServer> {
  const binary = redisServerBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-'));
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn(binary, [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice',
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitUntilReady(child, port);
    child.stdout?.resume(); // keep draining so a chatty server never blocks on a full pipe
  };
  const stop = () => stopProcess(child);
  const close = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };

  await start();
  return { url: `redis://127.0.0.1:${port}`, owned: true, stop, start, close };
}

/**
 * The Redis for a test file. Pass `{ restartable: true }` when the test stops and restarts Redis: it then gets a
 * private server unless `REDIS_URL` forces an external one (check `owned` and skip in that case).
 */
export async function startRedisServer(options: { restartable?: boolean } = {}): Promise<RedisServer> {
  if (process.env.REDIS_URL) return externalServer(process.env.REDIS_URL);
  const shared = process.env[SHARED_URL_ENV];
  if (shared && !options.restartable) return externalServer(shared);
  return spawnRedisServer();
}

/** Where {@link redisGlobalSetup} keeps its server for {@link redisGlobalTeardown} (same process in Jest). */
const GLOBAL_HANDLE = Symbol.for('portcullis.test.redisServer');
type WithHandle = { [GLOBAL_HANDLE]?: RedisServer };

/**
 * For Jest `globalSetup`: starts one server for the whole run and publishes its URL in
 * `PORTCULLIS_TEST_REDIS_URL`, which workers inherit. Does nothing when `REDIS_URL` is set.
 */
export async function redisGlobalSetup(): Promise<void> {
  if (process.env.REDIS_URL || process.env[SHARED_URL_ENV]) return;
  const server = await spawnRedisServer();
  (globalThis as WithHandle)[GLOBAL_HANDLE] = server;
  process.env[SHARED_URL_ENV] = server.url;
}

/** For Jest `globalTeardown`: stops the server {@link redisGlobalSetup} started. */
export async function redisGlobalTeardown(): Promise<void> {
  const holder = globalThis as WithHandle;
  await holder[GLOBAL_HANDLE]?.close();
  delete holder[GLOBAL_HANDLE];
  delete process.env[SHARED_URL_ENV];
}

/**
 * Starts one more `redis-server` process with `args` (for the cluster and Sentinel helpers) and resolves once it is
 * ready (see {@link waitUntilReady}); its output is drained so it never blocks on a full pipe.
 */
export async function spawnRedisProcess(args: string[], port: number, marker?: string): Promise<ChildProcess> {
  const child = spawn(redisServerBinary(), args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitUntilReady(child, port, marker);
  child.stdout?.resume();
  return child;
}

/** SIGKILL (a crash: nothing is saved, no goodbye to replicas), resolved once the process is gone. */
export function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
