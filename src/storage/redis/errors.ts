import { ServiceUnavailableError } from '../../errors.js';

/**
 * Reply errors that mean "Redis is there but cannot serve right now" (restarting, failing over, resharding) rather
 * than "this command is wrong". See https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors
 * for the error-prefix convention.
 */
const UNAVAILABLE_REPLY_PREFIXES = ['LOADING', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'READONLY', 'BUSY', 'NOREPLICAS'];

/** ioredis raises server replies as `ReplyError` (from `redis-errors`); everything else comes from the connection. */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * True when the failure is about reaching Redis, not about the command: connection refused or reset, offline
 * (`enableOfflineQueue: false` rejects at once), retries exhausted, timeouts, or a server reply that says it is
 * temporarily unable to serve.
 */
export function isConnectivityError(error: unknown): boolean {
  if (!isReplyError(error)) return true;
  return UNAVAILABLE_REPLY_PREFIXES.some((prefix) => error.message.startsWith(prefix));
}

/**
 * Maps a Redis client failure onto the storage contract: unreachable means {@link ServiceUnavailableError} (503,
 * `temporarily_unavailable`), so the caller sees "try again shortly" instead of a 500. Command errors (a bug) are
 * rethrown untouched.
 */
export function toStorageError(error: unknown): unknown {
  if (error instanceof ServiceUnavailableError) return error;
  return isConnectivityError(error) ? new ServiceUnavailableError('redis', error) : error;
}

/** Runs one Redis call and translates its failure with {@link toStorageError}. */
export async function callRedis<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toStorageError(error);
  }
}


/**
 * True when Redis Cluster refused a command over several keys because their slot is being migrated: `TRYAGAIN`
 * (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#multiple-keys-operations), or the
 * client giving up on it ("Too many Cluster redirections": ioredis retries a TRYAGAIN on a random node, which answers
 * MOVED or ASK, so the last error it reports may be any of the three), wrapped or not.
 */
export function isSlotMigrating(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e.message.startsWith('TRYAGAIN') || e.message.startsWith('Too many Cluster redirections')) return true;
  }
  return false;
}
