import type { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import { prefixedId } from '../crypto/random.js';
import type { AppRecord, Stores } from '../storage/ports.js';
import { generateAppKeys } from './app-keys.js';
import { appSettingsSchema, resolveSettings, type SettingsDefaults } from './settings.js';

type Deps = Pick<Stores, 'apps' | 'appKeys' | 'clients' | 'accounts' | 'tenants' | 'invitations' | 'partners' | 'outbox' | 'audit' | 'webhooks' | 'webhookDeliveries' | 'factors' | 'resources' | 'connections' | 'identityLinks'>;
type SettingsPatch = Partial<z.output<typeof appSettingsSchema>>;

/** Apps: the isolation boundary. Creating one generates its keys; deleting one removes everything it owns. */
export class AppService {
  /**
   * @param onChange called after any change that affects the app's provider instance (settings, keys, deletion).
   * @param onCreated called once the new app is stored, for what every app starts with (its account center client).
   */
  constructor(
    private readonly stores: Deps,
    private readonly defaults: SettingsDefaults,
    private readonly onChange: (app: AppRecord) => void = () => {},
    private readonly onCreated: (app: AppRecord) => Promise<unknown> = async () => {},
  ) {}

  async create(input: { slug: string; name: string; settings?: SettingsPatch }): Promise<AppRecord> {
    if (await this.stores.apps.findBySlug(input.slug)) throw new ConflictError(`An app with slug "${input.slug}" already exists.`);
    const now = new Date();
    const app: AppRecord = {
      id: prefixedId('app'),
      slug: input.slug,
      name: input.name,
      settings: resolveSettings(input.settings ?? {}, this.defaults),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    // Keys first: an app record never exists without its keys, even if this process dies in between. The RS256 key
    // is added before the app's provider is first built (completeAppKeys), so creating an app costs one EC keygen.
    await this.stores.appKeys.put(await generateAppKeys(app.id));
    await this.stores.apps.create(app);
    await this.onCreated(app);
    return app;
  }

  async find(slug: string): Promise<AppRecord | undefined> {
    return this.stores.apps.findBySlug(slug);
  }

  async require(slug: string): Promise<AppRecord> {
    const app = await this.find(slug);
    if (!app) throw new NotFoundError(`No app "${slug}".`);
    return app;
  }

  list(): Promise<AppRecord[]> {
    return this.stores.apps.list();
  }

  async update(slug: string, patch: { name?: string; settings?: SettingsPatch }): Promise<AppRecord> {
    const app = await this.require(slug);
    const updated = await this.stores.apps.update(app.id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.settings ? { settings: resolveSettings(patch.settings, this.defaults, app.settings) } : {}),
    });
    if (!updated) throw new NotFoundError(`No app "${slug}".`);
    this.onChange(updated);
    return updated;
  }

  /** Replaces the signing keys (the previous ones stay published until the next rotation so tokens still verify). */
  async rotateKeys(slug: string): Promise<AppRecord> {
    const app = await this.require(slug);
    const current = await this.stores.appKeys.get(app.id);
    const fresh = await generateAppKeys(app.id, { withRsa: true });
    await this.stores.appKeys.put({
      ...fresh,
      jwks: [...fresh.jwks, ...(current?.jwks ?? []).slice(0, 2)],
      cookieKeys: [...fresh.cookieKeys.slice(0, 1), ...(current?.cookieKeys ?? []).slice(0, 1)],
    });
    const touched = (await this.stores.apps.touch(app.id))!;
    this.onChange(touched);
    return touched;
  }

  async delete(slug: string): Promise<void> {
    const app = await this.require(slug);
    await this.stores.apps.delete(app.id);
    await Promise.all([
      this.stores.appKeys.delete(app.id),
      this.stores.clients.deleteByApp(app.id),
      this.stores.accounts.deleteByApp(app.id),
      this.stores.tenants.deleteByApp(app.id),
      this.stores.invitations.deleteByApp(app.id),
      this.stores.partners.deleteByApp(app.id),
      this.stores.outbox.deleteByApp(app.id),
      this.stores.audit.deleteByApp(app.id),
      this.stores.webhooks.deleteByApp(app.id),
      this.stores.webhookDeliveries.deleteByApp(app.id),
      this.stores.factors.deleteByApp(app.id),
      this.stores.connections.deleteByApp(app.id),
      this.stores.identityLinks.deleteByApp(app.id),
      this.stores.resources.deleteByApp(app.id),
    ]);
    this.onChange(app);
  }
}
