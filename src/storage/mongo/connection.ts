/**
 * Opening, probing and closing the MongoDB connection. Each call creates its own mongoose `Connection` with
 * `createConnection`, never the process-wide default connection, so two instances (tests, a second app in the same
 * process) never share models or state.
 */
import mongoose from 'mongoose';
import type { ConnectOptions, Connection } from 'mongoose';

export interface CreateMongoOptions {
  /** How long an operation waits for a reachable server before failing (`serverSelectionTimeoutMS`). */
  connectTimeoutMs: number;
  /** Database to use instead of the one in the URI (tests use one database per file). */
  dbName?: string;
  /** Emit the driver's command events (round-trip timing for metrics). */
  monitorCommands?: boolean;
}

/** Option key under which the credential-free URI is kept on the connection, for error messages. */
const REDACTED_URI_KEY = 'portcullisRedactedUri';

/**
 * Starts connecting and returns at once; {@link waitForMongo} reports whether the server is reachable.
 *
 * - `autoIndex: false` and `autoCreate: false`: indexes and collections are created by the explicit migration step
 *   (`ensureIndexes`), not as a side effect of the first query, so start-up order is predictable and no index build
 *   is triggered by whichever process happens to start first.
 * - `sanitizeFilter: true`: defence in depth. Repositories build filters from `String(x)` values, but should an
 *   object such as `{ $gt: '' }` ever reach a filter it is wrapped in `$eq` instead of acting as an operator.
 *   Operators we write ourselves are marked with `mongoose.trusted()`.
 * - `bufferTimeoutMS` equals the connect timeout, so calls made before the first connection completes fail within the
 *   same bound as calls made during an outage.
 */
export function createMongo(uri: string, options: CreateMongoOptions): Connection {
  // `bufferTimeoutMS` is read by mongoose's openUri() but missing from its ConnectOptions type.
  const connectOptions: ConnectOptions & { bufferTimeoutMS: number } = {
    serverSelectionTimeoutMS: options.connectTimeoutMs,
    bufferTimeoutMS: options.connectTimeoutMs,
    autoIndex: false,
    autoCreate: false,
    sanitizeFilter: true,
    ...(options.monitorCommands ? { monitorCommands: true } : {}),
    ...(options.dbName ? { dbName: options.dbName } : {}),
  };
  const conn = mongoose.createConnection(uri, connectOptions);
  conn.set(REDACTED_URI_KEY, redactMongoUri(uri));
  // Without an 'error' listener a failed first connection becomes an unhandled rejection that kills the process.
  // The failure is reported by waitForMongo, and every later operation fails with ServiceUnavailableError.
  conn.on('error', ignoreConnectionError);
  return conn;
}

function ignoreConnectionError(): void {}

/**
 * Resolves once the first connection succeeds; rejects with `cannot reach MongoDB at <uri>` (credentials and query
 * string removed, since they may hold secrets) when it fails or takes longer than `timeoutMs`.
 */
export async function waitForMongo(conn: Connection, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([conn.asPromise(), timeout]);
  } catch (cause) {
    throw new Error(`cannot reach MongoDB at ${mongoLocation(conn)}`, { cause });
  } finally {
    clearTimeout(timer);
  }
}

/** Synchronous readiness: true while the driver reports a connected server. */
export function isMongoConnected(conn: Connection): boolean {
  return conn.readyState === mongoose.ConnectionStates.connected;
}

/** Round trip to the server for health checks; false instead of throwing when it is unreachable. */
export async function pingMongo(conn: Connection): Promise<boolean> {
  try {
    if (!conn.db) return false;
    await conn.db.command({ ping: 1 });
    return true;
  } catch {
    return false;
  }
}

/** The URI without credentials or options, e.g. `mongodb://db.internal:27017/portcullis`. */
export function redactMongoUri(uri: string): string {
  return uri.replace(/^([a-z0-9+.-]+:\/\/)[^@/]*@/i, '$1').replace(/\?.*$/, '');
}

/** The credential-free URI recorded by {@link createMongo}, or host:port for connections made elsewhere. */
export function mongoLocation(conn: Connection): string {
  const recorded: unknown = conn.get(REDACTED_URI_KEY);
  if (typeof recorded === 'string') return recorded;
  return `${conn.host ?? 'unknown host'}:${conn.port ?? ''}/${conn.name ?? ''}`;
}
