import { LRUCache } from 'lru-cache';
import type { ClientMetadata } from 'oidc-provider';
import type { ClientService } from '../clients/client-service.js';
import type { ClientRecord, ClientRepository } from '../storage/ports.js';

interface Entry {
  /** The stored record this metadata was derived from (a private copy): any change to the record differs from it. */
  record: ClientRecord;
  metadata: ClientMetadata;
}

/**
 * Provider-ready client metadata (secret decrypted, fields mapped), kept per app and client so the AES-GCM
 * decryption and mapping run once per version of a client instead of on every token request.
 *
 * Invalidation needs no messages between processes: every lookup still reads the client record from the
 * repository (what another process changed is there at once), and the cached metadata is used only while the
 * record equals, field by field, the one it was derived from. A changed name, redirect URI, grant type or a rotated
 * secret (new ciphertext) therefore reaches the very next request in every process; a deleted client is gone.
 */
export class ClientMetadataCache {
  private readonly entries: LRUCache<string, Entry>;

  constructor(
    private readonly repository: ClientRepository,
    private readonly clients: Pick<ClientService, 'toMetadata'>,
    max = 10_000,
  ) {
    this.entries = new LRUCache({ max });
  }

  async find(appId: string, clientId: string): Promise<ClientMetadata | undefined> {
    const key = `${appId}:${clientId}`;
    const record = await this.repository.find(appId, clientId);
    if (!record) {
      this.entries.delete(key);
      return undefined;
    }
    const cached = this.entries.get(key);
    if (cached && sameValue(cached.record, record)) return cached.metadata;
    // Frozen: the same object is handed to every request, so nothing may change it in place.
    const metadata = deepFreeze(this.clients.toMetadata(record));
    // The repository hands out a fresh record per read (never a reference into the store): it is ours to keep.
    this.entries.set(key, { record, metadata });
    return metadata;
  }

  get size(): number {
    return this.entries.size;
  }
}

const caches = new WeakMap<object, ClientMetadataCache>();

/**
 * The cache of one server: one per ClientService (which holds the server's secret key), so rebuilding an app's
 * provider keeps it warm and two servers never share decrypted metadata.
 */
export function clientMetadataCache(repository: ClientRepository, clients: Pick<ClientService, 'toMetadata'>): ClientMetadataCache {
  let cache = caches.get(clients);
  if (!cache) {
    cache = new ClientMetadataCache(repository, clients);
    caches.set(clients, cache);
  }
  return cache;
}

/**
 * Deep equality of stored values (plain objects, arrays, Dates, primitives), without serialising: this runs on
 * every token request.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aDate = isDate(a);
  if (aDate || isDate(b)) return aDate && isDate(b) && (a as Date).getTime() === (b as Date).getTime();
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** A Date from any realm (`instanceof` fails across vm contexts). */
function isDate(value: object): boolean {
  return Object.prototype.toString.call(value) === '[object Date]';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
