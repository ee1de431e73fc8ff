import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';

type ClientClass = Provider['Client'];
type Client = InstanceType<ClientClass>;

/**
 * Keeps the provider's `Client` objects between requests, one per version of a client.
 *
 * Reading clients through an adapter makes oidc-provider serialise the metadata and SHA-256 it on every request to
 * find its cached `Client` (`lib/models/client.js` `find`). Our metadata cache (client-cache.ts) already answers
 * the *same frozen object* for as long as the stored record is unchanged, and a new object as soon as anything in it
 * changed (in any process: the record is re-read on every lookup). So the `Client` built from a metadata object is
 * kept against that object's identity: a changed client (new secret, redirect URI, grant type…) has new metadata
 * and gets a freshly built `Client` on the very next request; a deleted one finds no metadata and no client.
 *
 * Building is what the library's own `find` does for metadata it has not seen (`helpers/add_client.js` without
 * storing): `new provider.Client(metadata)`, which validates it. Clients with a `sector_identifier_uri` are left to
 * the library's `find` (it fetches and checks the sector document); Portcullis does not register them today.
 */
export function reuseClients(provider: Provider, lookup: (clientId: string) => Promise<ClientMetadata | undefined>): void {
  const Client = provider.Client as ClientClass & { find(id: string): Promise<Client | undefined> };
  const libraryFind = Client.find.bind(Client);
  const built = new WeakMap<ClientMetadata, Client>();
  Client.find = async (id: string) => {
    if (typeof id !== 'string' || !id.length) return undefined;
    const metadata = await lookup(id);
    if (!metadata) return undefined;
    if (metadata.sector_identifier_uri !== undefined) return libraryFind(id);
    let client = built.get(metadata);
    if (!client) {
      // The type declarations hide the constructor; at runtime it takes the metadata (add_client.js).
      client = new (provider.Client as unknown as new (metadata: ClientMetadata) => Client)(metadata);
      built.set(metadata, client);
    }
    return client;
  };
}
