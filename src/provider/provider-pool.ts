import type { IncomingMessage, ServerResponse } from 'node:http';
import { LRUCache } from 'lru-cache';
import type Provider from 'oidc-provider';
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
 * seen when the version stamp is re-read, at most every `versionCheckMs` per app.
 */
export class ProviderPool {
  private readonly entries: LRUCache<string, Entry>;
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
    this.entries = new LRUCache({ max: deps.size });
  }

  /** The app's provider, or undefined when no such app exists. */
  async get(slug: string): Promise<PooledProvider | undefined> {
    const entry = this.entries.get(slug);
    if (entry && Date.now() - entry.checkedAt < this.deps.versionCheckMs) return entry;
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
    const keys = await this.deps.appKeys.get(app.id);
    if (!keys) throw new Error(`app ${app.slug} has no keys`);
    const provider = await this.deps.build(app, keys);
    const fresh: Entry = { app, provider, handle: provider.callback() as never, checkedAt: Date.now() };
    this.entries.set(slug, fresh);
    return fresh;
  }
}
