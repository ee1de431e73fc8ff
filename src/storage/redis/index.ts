/** Redis-backed short-lived state: the ephemeral store and oidc-provider's adapter. */
export {
  createRedis, describeRedis, parseRedisUrl, reconnectDelay, waitForRedis,
  type CreateRedisOptions, type RedisClient, type RedisHost, type RedisTarget,
} from './connection.js';
export { callRedis, isConnectivityError, toStorageError } from './errors.js';
export { RedisEphemeralStore, type RedisStoreOptions } from './ephemeral-store.js';
export { RedisOidcStore } from './oidc-adapter.js';
