import type Provider from 'oidc-provider';
import type { ClientSummary } from '../sign-in/attempt.js';

type ProviderClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/**
 * Summaries by provider `Client`: the provider keeps one `Client` per client version (client-reuse.ts), and
 * `metadata()` rebuilds the snake_case metadata object on every call, once per sign-in request otherwise.
 */
const summaries = new WeakMap<ProviderClient, ClientSummary>();

/** What the sign-in pages need of a provider client (frozen: it is shared by every request of this client version). */
export function clientSummary(client: ProviderClient): ClientSummary {
  let summary = summaries.get(client);
  if (!summary) summaries.set(client, (summary = summarise(client)));
  return summary;
}

function summarise(client: ProviderClient): ClientSummary {
  const metadata = client.metadata();
  return Object.freeze({
    clientId: client.clientId,
    name: String(metadata.client_name ?? client.clientId),
    firstParty: metadata['urn:portcullis:first_party'] === true,
    redirectOrigins: Object.freeze([...new Set((client.redirectUris ?? []).map((u) => new URL(u).origin))]),
    initiateLoginUri: typeof metadata.initiate_login_uri === 'string' ? metadata.initiate_login_uri : undefined,
  });
}
