/**
 * The provider pool checks the versions of all live apps in one background query instead of one slug lookup per
 * app on the request path, and still rebuilds an app's provider when another process changed the app.
 */
import Provider from 'oidc-provider';
import { ProviderPool } from '../../src/provider/provider-pool.js';
import { MemoryAppKeysRepository, MemoryAppRepository } from '../../src/storage/memory/repositories.js';
import type { AppRecord } from '../../src/storage/ports.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function app(slug: string): AppRecord {
  const now = new Date();
  return { id: `app_${slug}`, slug, name: slug, settings: {} as AppRecord['settings'], version: 1, createdAt: now, updatedAt: now };
}

it('confirms live apps with one versions() query and rebuilds a changed one', async () => {
  const apps = new MemoryAppRepository();
  const appKeys = new MemoryAppKeysRepository();
  const calls = { findBySlug: 0, versions: 0, builds: 0 };
  const counted = {
    ...apps,
    findBySlug: (slug: string) => { calls.findBySlug += 1; return apps.findBySlug(slug); },
    findById: (id: string) => apps.findById(id),
    versions: (ids: string[]) => { calls.versions += 1; return apps.versions(ids); },
  } as unknown as MemoryAppRepository;
  for (const slug of ['one', 'two', 'three']) {
    await apps.create(app(slug));
    await appKeys.put({ appId: `app_${slug}`, jwks: [], cookieKeys: ['k'], createdAt: new Date() });
  }
  // A long interval, and the batch run by hand: the test does not depend on timer punctuality on a loaded machine.
  const pool = new ProviderPool({
    apps: counted, appKeys, size: 10, versionCheckMs: 1000,
    build: async (a) => { calls.builds += 1; return new Provider(`http://127.0.0.1/apps/${a.slug}`, {}); },
  });
  const all = () => Promise.all(['one', 'two', 'three'].map((s) => pool.get(s)));
  try {
    expect(pool.fresh('one')).toBeUndefined(); // not built yet: only get() may read the app
    const first = await all();
    expect(calls).toMatchObject({ findBySlug: 3, builds: 3 });
    // Live and recently checked: handed out at once, without a read.
    expect(pool.fresh('one')).toBe(first[0]);
    await sleep(1100); // every entry is now older than the interval
    await pool.checkVersions();
    const versionQueries = calls.versions;
    expect(versionQueries).toBeGreaterThanOrEqual(1);
    await all();
    await all();
    // Confirmed by one batched query: no per-app lookups on the request path, nothing rebuilt.
    expect(calls.findBySlug).toBe(3);
    expect(calls.builds).toBe(3);

    await apps.update('app_two', { name: 'changed elsewhere' }); // another process's change: no invalidate() here
    await pool.checkVersions();
    const two = await pool.get('two');
    expect(two?.app.name).toBe('changed elsewhere');
    expect(two?.provider).not.toBe(first[1]?.provider);
    expect((await pool.get('one'))?.provider).toBe(first[0]?.provider);

    await apps.delete('app_three');
    await pool.checkVersions();
    expect(await pool.get('three')).toBeUndefined();
  } finally {
    pool.close();
  }
});
