/**
 * The account center is a first-party client of each app, like any portal: it signs the person in through the
 * app's own authorization endpoint with openid-client (authorization code + PKCE, OIDC Core §3.1) and calls nothing
 * the app's other clients could not. The client is created with the app (a public client: nothing secret to keep;
 * its one redirect URI is exact, below the app's issuer), for apps older than that or whose client an operator
 * deleted on first use, and recognised by that redirect URI.
 */
import { LRUCache } from 'lru-cache';
import * as oidc from 'openid-client';
import type { ClientService } from '../clients/client-service.js';
import type { AppRecord, ClientRecord } from '../storage/ports.js';
import { ACCOUNT_SCOPES } from '../account-api/bearer-token.js';

export const CENTER_CLIENT_NAME = 'Account center';
export const CENTER_SCOPE = ['openid', 'email', 'profile', 'phone', ...ACCOUNT_SCOPES].join(' ');

export function centerCallback(issuer: string): string {
  return `${issuer}/account/callback`;
}

/** Apps whose account center configuration is kept (discovery is repeated for an app beyond them). */
const MAX_CONFIGS = 1_000;

export class CenterClients {
  /** Bounded like every per-app cache: with 100k apps, only the ones people use their account center in stay. */
  private readonly configs = new LRUCache<string, Promise<oidc.Configuration>>({ max: MAX_CONFIGS });

  constructor(private readonly clients: ClientService, private readonly issuerOf: (app: AppRecord) => string) {}

  /** The app's account center client, created when missing (the oldest wins if two requests raced to create one). */
  async ensure(app: AppRecord): Promise<ClientRecord> {
    const callback = centerCallback(this.issuerOf(app));
    const existing = (await this.clients.list(app)).filter((c) => c.redirectUris.includes(callback))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())[0];
    return existing ?? this.create(app);
  }

  /** Creates the app's account center client (called when the app is created, and by `ensure`). */
  async create(app: AppRecord): Promise<ClientRecord> {
    const { client } = await this.clients.create(app, {
      name: CENTER_CLIENT_NAME,
      redirect_uris: [centerCallback(this.issuerOf(app))],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'none',
      first_party: true,
    });
    return client;
  }

  /** openid-client's configuration for the app (discovery once per app and client). */
  config(app: AppRecord, clientId: string): Promise<oidc.Configuration> {
    const issuer = this.issuerOf(app);
    const key = `${app.id}:${clientId}`;
    let config = this.configs.get(key);
    if (!config) {
      const insecure = issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined;
      config = oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), insecure);
      const pending = config;
      // A failed discovery is not kept (the next request tries again); a newer one for the key stays.
      pending.catch(() => {
        if (this.configs.peek(key) === pending) this.configs.delete(key);
      });
      this.configs.set(key, pending);
    }
    return config;
  }
}
