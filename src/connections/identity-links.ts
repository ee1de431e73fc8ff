/**
 * Upstream identities linked to accounts: `(connection, upstream iss, upstream sub)` → account. A link is how a
 * returning person is found, before any email; upstream tokens are kept on it only when the connection asks
 * (`store_tokens`), AES-256-GCM encrypted and bound to the link.
 */
import { NotFoundError } from '../errors.js';
import { prefixedId } from '../crypto/random.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { AppRecord, IdentityLinkRecord, IdentityLinkRepository } from '../storage/ports.js';

export class IdentityLinkService {
  constructor(private readonly links: IdentityLinkRepository, private readonly box: SecretBox) {}

  find(app: AppRecord, connection: string, issuer: string, subject: string): Promise<IdentityLinkRecord | undefined> {
    return this.links.findByIdentity(app.id, connection, issuer, subject);
  }

  /** Links the identity to the account; throws ConflictError when it is linked already (a race of two first sign-ins). */
  async link(app: AppRecord, accountId: string, identity: { connection: string; issuer: string; subject: string }): Promise<IdentityLinkRecord> {
    const record: IdentityLinkRecord = { appId: app.id, id: prefixedId('idl'), accountId, ...identity, createdAt: new Date() };
    await this.links.create(record);
    return record;
  }

  async storeTokens(app: AppRecord, link: IdentityLinkRecord, tokens: Record<string, unknown>): Promise<void> {
    await this.links.setTokens(app.id, link.id, this.box.seal(JSON.stringify(tokens), `${app.id}:identity:${link.id}`));
  }

  /** The stored upstream tokens of a link, when its connection keeps them. */
  tokensOf(link: IdentityLinkRecord): Record<string, unknown> | undefined {
    return link.tokensCiphertext ? JSON.parse(this.box.open(link.tokensCiphertext, `${link.appId}:identity:${link.id}`)) as Record<string, unknown> : undefined;
  }

  list(app: AppRecord, accountId: string): Promise<IdentityLinkRecord[]> {
    return this.links.listByAccount(app.id, accountId);
  }

  async remove(app: AppRecord, accountId: string, id: string): Promise<void> {
    if (id.length > 100 || !(await this.links.delete(app.id, accountId, id))) throw new NotFoundError(`No identity "${id}" linked to account "${accountId}".`);
  }

  /** A deleted connection's identities no longer sign anybody in. */
  removeConnection(app: AppRecord, connection: string): Promise<void> {
    return this.links.deleteByConnection(app.id, connection);
  }

  /** Links left behind by a deleted account. */
  removeStale(app: AppRecord, link: IdentityLinkRecord): Promise<boolean> {
    return this.links.delete(app.id, link.accountId, link.id);
  }
}

export function presentIdentity(link: IdentityLinkRecord) {
  return { id: link.id, connection: link.connection, issuer: link.issuer, subject: link.subject, created_at: link.createdAt.toISOString() };
}
