/**
 * A Map whose entries may expire. Expired entries are dropped when read and by a periodic sweep, so memory does not
 * grow with records nobody reads again. The sweep timer is unref'd: it never keeps the process alive.
 * Entries keep insertion order, and `set` moves a key to the end, so {@link oldestKey} is the least recently
 * written entry (what a capped store evicts first).
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt?: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(sweepEveryMs = 60_000, private readonly onExpire?: (key: string, value: V) => void) {
    this.timer = setInterval(() => this.sweep(), sweepEveryMs);
    this.timer.unref();
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.expire(key, entry.value);
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
    this.entries.delete(key); // re-inserted at the end: insertion order stays write order
    this.entries.set(key, { value, expiresAt: ttlSeconds ? Date.now() + ttlSeconds * 1000 : undefined });
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The least recently written key (expired or not), or undefined when empty. */
  oldestKey(): string | undefined {
    for (const key of this.entries.keys()) return key;
    return undefined;
  }

  /** The value of a key even if it has expired (for clean-up of what it points to). */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  *values(): IterableIterator<[string, V]> {
    for (const key of [...this.entries.keys()]) {
      const value = this.get(key);
      if (value !== undefined) yield [key, value];
    }
  }

  /** Drops every expired entry; returns how many. */
  sweep(): number {
    const now = Date.now();
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
        this.expire(key, entry.value);
        dropped += 1;
      }
    }
    return dropped;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private expire(key: string, value: V): void {
    this.entries.delete(key);
    this.onExpire?.(key, value);
  }
}

/**
 * Deep copy for records, so callers never hold references into the store: plain objects, arrays and Dates are
 * copied by hand (an order of magnitude faster than `structuredClone` for the small records stored here);
 * anything else (Map, Set, Buffer, class instances) falls back to `structuredClone`.
 */
export function copy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copy) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const inner = (value as Record<string, unknown>)[key];
    // structuredClone keeps `undefined` members; so do we.
    out[key] = inner === null || typeof inner !== 'object' ? inner : copy(inner);
  }
  return out as T;
}
