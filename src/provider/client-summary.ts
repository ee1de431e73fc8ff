import type Provider from 'oidc-provider';
import type { ClientSummary } from '../sign-in/attempt.js';

type ProviderClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/** What the sign-in pages need of a provider client. */
export function clientSummary(client: ProviderClient): ClientSummary {
  const metadata = client.metadata();
  return {
    clientId: client.clientId,
    name: String(metadata.client_name ?? client.clientId),
    firstParty: metadata['urn:portcullis:first_party'] === true,
    redirectOrigins: [...new Set((client.redirectUris ?? []).map((u) => new URL(u).origin))],
    initiateLoginUri: typeof metadata.initiate_login_uri === 'string' ? metadata.initiate_login_uri : undefined,
  };
}
