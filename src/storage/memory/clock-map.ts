/**
 * A Map whose entries may expire. Expired entries are dropped when read and by a periodic sweep, so memory does not
 * grow with records nobody reads again. The sweep timer is unref'd: it never keeps the process alive.
 * {@link oldestKey} is the least recently written entry (what a capped store evicts first), in amortised O(1):
 * writes are queued with a sequence number, and queue items whose entry was rewritten or removed since are skipped
 * (the queue is compacted when it holds many such items). Iterating a Map from its start would not do: V8 keeps
 * removed entries as holes until it rehashes, so "first key" after many front removals walks all of them.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt?: number; seq: number }>();
  private readonly timer: NodeJS.Timeout;
  private queueKeys: string[] = [];
  private queueSeqs: number[] = [];
  private head = 0;
  private seq = 0;

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
    const seq = ++this.seq;
    this.entries.set(key, { value, expiresAt: ttlSeconds ? Date.now() + ttlSeconds * 1000 : undefined, seq });
    this.queueKeys.push(key);
    this.queueSeqs.push(seq);
    if (this.queueKeys.length - this.head > 2 * this.entries.size + 1024) this.compact();
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The least recently written key (expired or not), or undefined when empty. */
  oldestKey(): string | undefined {
    while (this.head < this.queueKeys.length) {
      const key = this.queueKeys[this.head];
      if (this.entries.get(key)?.seq === this.queueSeqs[this.head]) return key;
      this.head += 1; // rewritten or removed since: not the oldest write of anything
      if (this.head > 4096 && this.head * 2 > this.queueKeys.length) this.compact();
    }
    return undefined;
  }

  /** Drops the queue items that no longer stand for an entry's latest write. */
  private compact(): void {
    const keys: string[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.queueKeys.length; i++) {
      const key = this.queueKeys[i];
      if (this.entries.get(key)?.seq === this.queueSeqs[i]) {
        keys.push(key);
        seqs.push(this.queueSeqs[i]);
      }
    }
    this.queueKeys = keys;
    this.queueSeqs = seqs;
    this.head = 0;
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
