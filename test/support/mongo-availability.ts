/**
 * Whether the MongoDB suites can run, decided once: also Jest's `globalSetup` (the default export), which runs
 * once per `npm test` before any worker and says in one line that they are skipped, so the test files skip quietly
 * (Jest's summary still lists them as skipped).
 *
 * Jest loads a global setup module without the test transform's module mapping, so this file imports nothing but
 * Node built-ins.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export const MONGO_SKIP_MESSAGE = 'Mongo tests skipped: no mongod on PATH and MONGODB_URI unset';
/** With MONGODB_URI but no mongod: the suites run there, the replica-set failover (it starts and kills members) cannot. */
export const REPLICA_SET_SKIP_MESSAGE = 'MongoDB replica-set failover test skipped: it starts its own members and needs mongod on PATH';

/** Absolute path of `mongod` when it is on PATH. */
export function findMongod(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'mongod');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Decided synchronously, because `describe` vs `describe.skip` is chosen while tests are being registered. */
export function mongoAvailable(): boolean {
  return Boolean(process.env.MONGODB_URI) || findMongod() !== undefined;
}

export default function reportMongoOnce(): void {
  if (!mongoAvailable()) console.log(`\n${MONGO_SKIP_MESSAGE}`);
  else if (!findMongod()) console.log(`\n${REPLICA_SET_SKIP_MESSAGE}`);
}
