/**
 * The explicit index migration. The connection is opened with `autoIndex: false`, so no index is built as a side
 * effect of a model being compiled; start-up runs this once (when configured to), and operators who manage indexes
 * themselves can turn it off and run it from a deploy step instead.
 */
import type { Connection } from 'mongoose';
import { ServiceUnavailableError } from '../../errors.js';
import { defineModels } from './models.js';
import { mongoCall } from './errors.js';

export interface EnsureIndexesOptions {
  /**
   * `sync` (default): make each collection's indexes exactly those of the schema — missing ones are built, indexes
   * whose options changed are rebuilt, and indexes the schema no longer declares are dropped (`Model.syncIndexes()`).
   * `create`: only build missing indexes, never drop (`Model.createIndexes()`); an index whose options changed then
   * fails loudly instead of being rebuilt.
   */
  mode?: 'sync' | 'create';
}

/** Builds the indexes of every model on `conn`, one collection after the other so a failure names its collection. */
export async function ensureIndexes(conn: Connection, options: EnsureIndexesOptions = {}): Promise<void> {
  const mode = options.mode ?? 'sync';
  for (const model of Object.values(defineModels(conn))) {
    try {
      await mongoCall(async () => {
        if (mode === 'sync') await model.syncIndexes();
        else await model.createIndexes();
      });
    } catch (error) {
      if (error instanceof ServiceUnavailableError) throw error;
      throw new Error(`cannot build the indexes of collection ${model.collection.collectionName}`, { cause: error });
    }
  }
}
