/** API resources of the embedded store. Records are cloned in and out, like every memory repository. */
import { ConflictError } from '../../errors.js';
import { REMOVABLE_RESOURCE_FIELDS, type Patch, type ResourceRecord, type ResourceRepository } from '../ports.js';

const clone = <T>(value: T): T => structuredClone(value);

export class MemoryResourceRepository implements ResourceRepository {
  private readonly byKey = new Map<string, ResourceRecord>();

  private key(appId: string, id: string): string {
    return `${appId}:${id}`;
  }

  async create(resource: ResourceRecord) {
    if (this.byKey.has(this.key(resource.appId, resource.id)) || this.byIdentifier(resource.appId, resource.identifier)) {
      throw new ConflictError('This app already has a resource with this identifier.');
    }
    this.byKey.set(this.key(resource.appId, resource.id), clone(resource));
  }

  async find(appId: string, id: string) {
    const found = this.byKey.get(this.key(appId, id));
    return found ? clone(found) : undefined;
  }

  async findByIdentifier(appId: string, identifier: string) {
    const found = this.byIdentifier(appId, identifier);
    return found ? clone(found) : undefined;
  }

  async list(appId: string) {
    return [...this.byKey.values()].filter((r) => r.appId === appId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(clone);
  }

  async update(appId: string, id: string, patch: Patch<ResourceRecord>) {
    const current = this.byKey.get(this.key(appId, id));
    if (!current) return undefined;
    if (patch.identifier !== undefined && patch.identifier !== current.identifier && this.byIdentifier(appId, patch.identifier)) {
      throw new ConflictError('This app already has a resource with this identifier.');
    }
    const next: ResourceRecord = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)), updatedAt: new Date() };
    for (const field of REMOVABLE_RESOURCE_FIELDS) if (field in patch && patch[field] === undefined) delete next[field];
    this.byKey.set(this.key(appId, id), clone(next));
    return clone(next);
  }

  async delete(appId: string, id: string) {
    return this.byKey.delete(this.key(appId, id));
  }

  async deleteByApp(appId: string) {
    for (const [key, r] of this.byKey) if (r.appId === appId) this.byKey.delete(key);
  }

  private byIdentifier(appId: string, identifier: string): ResourceRecord | undefined {
    return [...this.byKey.values()].find((r) => r.appId === appId && r.identifier === identifier);
  }
}
