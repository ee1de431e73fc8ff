/**
 * API resources of an app (RFC 8707 resource indicators): the APIs that consume the app's access tokens. Every
 * change bumps the app's version, so each process rebuilds the app's provider, and with it the resource servers it
 * serves from memory (`provider/resource-servers.ts`), on the next request or version check.
 */
import { InvalidRequestError, NotFoundError, type FieldIssue } from '../errors.js';
import { prefixedId } from '../crypto/random.js';
import type { AppRecord, AppRepository, ClientRepository, ResourceRecord, ResourceRepository } from '../storage/ports.js';
import type { ResourceInput, ResourcePatch } from './resource-schemas.js';

export interface ResourceServiceDeps {
  resources: ResourceRepository;
  apps: Pick<AppRepository, 'touch'>;
  clients: Pick<ClientRepository, 'find'>;
  /** Called with the touched app after every change (the provider pool drops the app's provider). */
  onChange(app: AppRecord): void;
}

export class ResourceService {
  constructor(private readonly deps: ResourceServiceDeps) {}

  async create(app: AppRecord, input: ResourceInput): Promise<ResourceRecord> {
    await this.check(app, input.scopes.map((s) => s.value), input.role_scopes, input.allowed_clients);
    const now = new Date();
    const resource: ResourceRecord = {
      appId: app.id,
      id: prefixedId('rs'),
      identifier: input.identifier,
      name: input.name,
      scopes: input.scopes,
      accessTokenFormat: input.access_token_format,
      accessTokenTtlSeconds: input.access_token_ttl_seconds,
      ...(input.allowed_clients ? { allowedClients: input.allowed_clients } : {}),
      ...(input.role_scopes ? { roleScopes: input.role_scopes } : {}),
      requireDpop: input.require_dpop,
      isDefault: input.is_default,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.resources.create(resource);
    if (resource.isDefault) await this.clearOtherDefaults(app, resource.id);
    await this.changed(app);
    return resource;
  }

  list(app: AppRecord): Promise<ResourceRecord[]> {
    return this.deps.resources.list(app.id);
  }

  /** By id (`rs_…`) or by identifier (the URI, URL-encoded in a path). */
  async require(app: AppRecord, idOrIdentifier: string): Promise<ResourceRecord> {
    const found = idOrIdentifier.includes(':')
      ? await this.deps.resources.findByIdentifier(app.id, idOrIdentifier)
      : await this.deps.resources.find(app.id, idOrIdentifier);
    if (!found) throw new NotFoundError(`No resource "${idOrIdentifier}" in this app.`);
    return found;
  }

  async update(app: AppRecord, idOrIdentifier: string, patch: ResourcePatch): Promise<ResourceRecord> {
    const current = await this.require(app, idOrIdentifier);
    const scopes = patch.scopes ?? current.scopes;
    const roleScopes = patch.role_scopes === null ? undefined : patch.role_scopes ?? current.roleScopes;
    const allowed = patch.allowed_clients === null ? undefined : patch.allowed_clients ?? undefined;
    await this.check(app, scopes.map((s) => s.value), roleScopes, allowed);
    const updated = await this.deps.resources.update(app.id, current.id, {
      identifier: patch.identifier,
      name: patch.name,
      scopes: patch.scopes,
      accessTokenFormat: patch.access_token_format,
      accessTokenTtlSeconds: patch.access_token_ttl_seconds,
      requireDpop: patch.require_dpop,
      isDefault: patch.is_default,
      ...(patch.allowed_clients !== undefined ? { allowedClients: patch.allowed_clients ?? undefined } : {}),
      ...(patch.role_scopes !== undefined ? { roleScopes: patch.role_scopes ?? undefined } : {}),
    });
    if (!updated) throw new NotFoundError(`No resource "${idOrIdentifier}" in this app.`);
    if (updated.isDefault && !current.isDefault) await this.clearOtherDefaults(app, updated.id);
    await this.changed(app);
    return updated;
  }

  async delete(app: AppRecord, idOrIdentifier: string): Promise<ResourceRecord> {
    const current = await this.require(app, idOrIdentifier);
    await this.deps.resources.delete(app.id, current.id);
    await this.changed(app);
    return current;
  }

  /** Role scopes name only the resource's scopes; allowed clients exist in the app (a 400 naming the field). */
  private async check(app: AppRecord, scopes: string[], roleScopes?: Record<string, string[]>, allowedClients?: string[]) {
    const known = new Set(scopes);
    const issues: FieldIssue[] = [];
    for (const [role, permitted] of Object.entries(roleScopes ?? {})) {
      for (const scope of permitted) if (!known.has(scope)) issues.push({ path: `role_scopes.${role}`, message: `"${scope}" is not one of the resource's scopes` });
    }
    for (const [i, clientId] of (allowedClients ?? []).entries()) {
      if (!(await this.deps.clients.find(app.id, clientId))) issues.push({ path: `allowed_clients.${i}`, message: `no client "${clientId}" in this app` });
    }
    if (issues.length) throw new InvalidRequestError('The resource is not consistent.', issues);
  }

  /** At most one default resource per app: the newest choice wins. */
  private async clearOtherDefaults(app: AppRecord, keepId: string) {
    for (const other of await this.deps.resources.list(app.id)) {
      if (other.isDefault && other.id !== keepId) await this.deps.resources.update(app.id, other.id, { isDefault: false });
    }
  }

  private async changed(app: AppRecord) {
    const touched = await this.deps.apps.touch(app.id);
    if (touched) this.deps.onChange(touched);
  }
}

/** The Admin API shape of a resource. */
export function presentResource(resource: ResourceRecord) {
  return {
    id: resource.id,
    identifier: resource.identifier,
    name: resource.name,
    scopes: resource.scopes,
    access_token_format: resource.accessTokenFormat,
    access_token_ttl_seconds: resource.accessTokenTtlSeconds,
    ...(resource.allowedClients ? { allowed_clients: resource.allowedClients } : {}),
    ...(resource.roleScopes ? { role_scopes: resource.roleScopes } : {}),
    require_dpop: resource.requireDpop,
    is_default: resource.isDefault,
    created_at: resource.createdAt.toISOString(),
    updated_at: resource.updatedAt.toISOString(),
  };
}
