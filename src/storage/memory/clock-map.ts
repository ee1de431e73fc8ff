/**
 * A Map whose entries may expire. Expired entries are dropped when read and by a periodic sweep, so memory does not
 * grow with records nobody reads again. The sweep timer is unref'd: it never keeps the process alive.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt?: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(sweepEveryMs = 60_000) {
    this.timer = setInterval(() => this.sweep(), sweepEveryMs);
    this.timer.unref();
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Milliseconds left, `Infinity` without expiry, undefined when absent. */
  remainingMs(key: string): number | undefined {
    if (this.get(key) === undefined) return undefined;
    const { expiresAt } = this.entries.get(key)!;
    return expiresAt === undefined ? Infinity : expiresAt - Date.now();
  }

  set(key: string, value: V, ttlSeconds?: number): void {
    this.entries.set(key, { value, expiresAt: ttlSeconds ? Date.now() + ttlSeconds * 1000 : undefined });
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  *values(): IterableIterator<[string, V]> {
    for (const key of [...this.entries.keys()]) {
      const value = this.get(key);
      if (value !== undefined) yield [key, value];
    }
  }

  sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.entries.delete(key);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** Deep copy for records: callers never hold references into the store. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}
