import type { IncomingMessage, ServerResponse } from 'node:http';
import { LRUCache } from 'lru-cache';
import type Provider from 'oidc-provider';
import { completeAppKeys } from '../apps/app-keys.js';
import type { AppKeysRecord, AppRecord, AppRepository, AppKeysRepository } from '../storage/ports.js';

export interface PooledProvider {
  app: AppRecord;
  provider: Provider;
  /** The provider's request handler, created once. */
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

interface Entry extends PooledProvider {
  checkedAt: number;
}

/**
 * Provider instances, one per app, built on first use and kept in a bounded LRU. An instance is rebuilt when its
 * app's `version` changes: changes made by this process invalidate at once; changes made by another process are
 * seen when the version stamps are re-read, every `versionCheckMs`: one `versions()` query for all live apps in
 * the background, so requests to a live app never wait for a version check. An entry the batch has not confirmed
 * within `versionCheckMs` (store down, timer late) is checked on its own on the next request, as before.
 */
/** Counters since start, read by the metrics endpoint. */
export interface PoolStats {
  /** Requests answered by a live, confirmed provider. */
  hits: number;
  /** Requests that had to read the app (first use, stale or changed). */
  misses: number;
  /** Providers dropped to keep the pool within its size. */
  evictions: number;
}

export class ProviderPool {
  private readonly entries: LRUCache<string, Entry>;
  readonly stats: PoolStats = { hits: 0, misses: 0, evictions: 0 };
  private readonly building = new Map<string, Promise<Entry | undefined>>();

  constructor(
    private readonly deps: {
      apps: AppRepository;
      appKeys: AppKeysRepository;
      build: (app: AppRecord, keys: AppKeysRecord) => Promise<Provider>;
      size: number;
      versionCheckMs: number;
    },
  ) {
    this.entries = new LRUCache({ max: deps.size, dispose: (_entry, _slug, reason) => { if (reason === 'evict') this.stats.evictions += 1; } });
    this.timer = setInterval(() => void this.checkVersions().catch(() => undefined), deps.versionCheckMs);
    this.timer.unref();
  }

  private readonly timer: NodeJS.Timeout;
  private checking = false;

  /**
   * Re-reads the version of every live app in one query; confirms the unchanged ones and drops the changed or
   * deleted ones (rebuilt on their next request). Errors leave entries unconfirmed: the request path then checks.
   */
  async checkVersions(): Promise<void> {
    if (this.checking || this.entries.size === 0) return;
    this.checking = true;
    try {
      const live = [...this.entries.values()];
      const startedAt = Date.now();
      const versions = await this.deps.apps.versions(live.map((e) => e.app.id));
      for (const entry of live) {
        if (this.entries.peek(entry.app.slug) !== entry) continue; // replaced or invalidated meanwhile
        if (versions.get(entry.app.id) === entry.app.version) entry.checkedAt = Math.max(entry.checkedAt, startedAt);
        else this.entries.delete(entry.app.slug);
      }
    } finally {
      this.checking = false;
    }
  }

  /** Stops the background version checks. */
  close(): void {
    clearInterval(this.timer);
  }

  /**
   * The app's provider when it is live and its version was checked recently enough, without waiting for anything
   * (what nearly every request finds); undefined when `get` has to read the app.
   */
  fresh(slug: string): PooledProvider | undefined {
    const entry = this.entries.get(slug);
    if (!entry || Date.now() - entry.checkedAt >= this.deps.versionCheckMs) return undefined;
    this.stats.hits += 1;
    return entry;
  }

  /** The app's provider, or undefined when no such app exists. */
  async get(slug: string): Promise<PooledProvider | undefined> {
    const live = this.fresh(slug);
    if (live) return live;
    const entry = this.entries.get(slug);
    this.stats.misses += 1;
    let pending = this.building.get(slug);
    if (!pending) {
      pending = this.refresh(slug, entry).finally(() => this.building.delete(slug));
      this.building.set(slug, pending);
    }
    return pending;
  }

  invalidate(slug: string): void {
    this.entries.delete(slug);
  }

  get size(): number {
    return this.entries.size;
  }

  private async refresh(slug: string, entry: Entry | undefined): Promise<Entry | undefined> {
    const app = await this.deps.apps.findBySlug(slug);
    if (!app) {
      this.entries.delete(slug);
      return undefined;
    }
    if (entry && entry.app.id === app.id && entry.app.version === app.version) {
      entry.checkedAt = Date.now();
      return entry;
    }
    // Adds the app's RS256 key on first use, before its JWKS is ever served (see app-keys.ts).
    const keys = await completeAppKeys(app.id, this.deps.appKeys);
    if (!keys) throw new Error(`app ${app.slug} has no keys`);
    const provider = await this.deps.build(app, keys);
    const fresh: Entry = { app, provider, handle: provider.callback() as never, checkedAt: Date.now() };
    this.entries.set(slug, fresh);
    return fresh;
  }
}
