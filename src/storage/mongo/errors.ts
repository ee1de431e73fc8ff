/**
 * Translation of MongoDB driver and mongoose errors into the storage contract's errors: a duplicate key becomes
 * `ConflictError`, an unreachable server becomes `ServiceUnavailableError('mongodb')`. Everything else (a bug, a cast
 * error) is rethrown untouched so it surfaces as a server error with its stack.
 */
import { ConflictError, ServiceUnavailableError } from '../../errors.js';

/** Driver errors that mean "no server to talk to", matched by name so duplicated driver copies still match. */
const UNREACHABLE_ERROR_NAMES = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoServerClosedError',
  'MongoClientClosedError',
  'MongoPoolClearedError',
  'MongoPoolClosedError',
]);

/**
 * Server error codes of a node that is stepping down, shutting down or unreachable: HostUnreachable,
 * HostNotFound, NetworkTimeout, ShutdownInProgress, PrimarySteppedDown, SocketException, NotWritablePrimary,
 * InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
 */
const UNAVAILABLE_SERVER_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);

/** Mongoose's own errors for operations that never reached a server. */
const UNREACHABLE_MONGOOSE_MESSAGES = [/buffering timed out/i, /Connection was force closed/i];

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  keyPattern?: unknown;
}

function asErrorLike(error: unknown): ErrorLike | undefined {
  return typeof error === 'object' && error !== null ? (error as ErrorLike) : undefined;
}

/** E11000: a unique index rejected the write. */
export function isDuplicateKeyError(error: unknown): boolean {
  const code = asErrorLike(error)?.code;
  return code === 11000 || code === 11001;
}

/** True when the error (or an error it wraps) says MongoDB could not be reached. */
export function isUnreachableError(error: unknown): boolean {
  for (let current = asErrorLike(error), depth = 0; current && depth < 4; current = asErrorLike(current.cause), depth++) {
    if (typeof current.name === 'string' && UNREACHABLE_ERROR_NAMES.has(current.name)) return true;
    if (typeof current.code === 'number' && UNAVAILABLE_SERVER_CODES.has(current.code)) return true;
    if (current.name === 'MongooseError' && typeof current.message === 'string'
      && UNREACHABLE_MONGOOSE_MESSAGES.some((pattern) => pattern.test(current!.message as string))) return true;
  }
  return false;
}

/**
 * The same wording as the memory store: `slug is already taken.`, `email is already taken.`, or the generic
 * identifier message when the primary key collided. The index is read from `keyPattern` (sent by the server).
 */
export function conflictMessage(error: unknown): string {
  const keyPattern = asErrorLike(error)?.keyPattern;
  const fields = typeof keyPattern === 'object' && keyPattern !== null ? Object.keys(keyPattern) : [];
  if (fields.includes('slug')) return 'slug is already taken.';
  if (fields.includes('uniqueEmail')) return 'email is already taken.';
  return 'A record with this identifier already exists.';
}

/** Maps an error thrown by a MongoDB call to the storage contract's errors. */
export function translateMongoError(error: unknown): unknown {
  if (isDuplicateKeyError(error)) return new ConflictError(conflictMessage(error));
  if (isUnreachableError(error)) return new ServiceUnavailableError('mongodb', error);
  return error;
}

/** Runs one storage operation, translating its failure (see {@link translateMongoError}). */
export async function mongoCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw translateMongoError(error);
  }
}
