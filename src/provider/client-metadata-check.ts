/**
 * Validates client metadata with oidc-provider's own rules (the same checks it applies when it loads the client
 * for a request), so the Admin API refuses what the provider would later reject with `invalid_client_metadata`
 * on every authorization request (issue: an `http` initiate_login_uri was accepted, then every sign-in failed).
 */
import type { ClientMetadata } from 'oidc-provider';
import { PortcullisError } from '../errors.js';
import type { AppRecord } from '../storage/ports.js';
import type { ProviderPool } from './provider-pool.js';

/** Library metadata names that the Admin API spells differently. */
const ADMIN_FIELD: Record<string, string> = {
  client_name: 'name',
  'urn:portcullis:first_party': 'first_party',
  'urn:portcullis:require_pkce': 'require_pkce',
};

/** RFC 7591 §3.2.2 error code, with the Admin API field named in `fields`. */
export class InvalidClientMetadataError extends PortcullisError {
  constructor(description: string, field: string | undefined) {
    super(400, 'invalid_client_metadata', description, field ? { fields: [{ path: field, message: description }] } : undefined);
  }
}

/** The field an oidc-provider metadata error is about: its messages start with the metadata name. */
function fieldOf(description: string): string | undefined {
  const name = /^([a-z_:]+)/.exec(description)?.[1];
  return name ? (ADMIN_FIELD[name] ?? name) : undefined;
}

/** A check for one app: resolves when the app's provider accepts the metadata, else throws a 400. */
export function providerMetadataCheck(pool: ProviderPool, app: AppRecord) {
  return async (metadata: ClientMetadata): Promise<void> => {
    const pooled = await pool.get(app.slug);
    if (!pooled) return; // the app is gone; the write that follows answers 404
    try {
      await pooled.provider.Client.validate(metadata);
    } catch (error) {
      const { error: code, error_description: description } = error as { error?: string; error_description?: string };
      if (code !== 'invalid_client_metadata' && code !== 'invalid_redirect_uri') throw error;
      throw new InvalidClientMetadataError(description ?? code, fieldOf(description ?? ''));
    }
  };
}
