import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';

/**
 * A server-side script run by its SHA-1 (`EVALSHA`), so the body crosses the network only the first time each
 * server sees it (and again after a restart flushed the script cache). See https://redis.io/docs/latest/commands/evalsha/.
 *
 * Scripts only touch keys of one app, all carrying the same `{appId}` hash tag (see `./keys.ts`), so they are valid
 * on Redis Cluster too (every key lives in one slot). Declare every key in KEYS where possible: during a resharding
 * a cluster node refuses a script that reaches an undeclared key already moved away (see `oidc-adapter.ts`).
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly body: string) {
    this.sha = createHash('sha1').update(body).digest('hex');
  }

  /**
   * Runs the script with `keys` as KEYS (their number is sent with them, so one script may take any number) and
   * `args` as ARGV; `onAttempt` is called once per command sent (for round-trip accounting).
   */
  async run(client: RedisClient, keys: string[], args: Array<string | number>, onAttempt: () => void): Promise<unknown> {
    onAttempt();
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      onAttempt();
      return client.eval(this.body, keys.length, ...keys, ...args);
    }
  }
}
