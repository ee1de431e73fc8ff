/**
 * Managed Admin API keys against a running server: shown once, stored hashed, scoped by resource and app (403
 * outside), expiring, revocable, `last_used_at` recorded, and named in the audit of every change they make.
 */
import { createHash } from 'node:crypto';
import { AdminClient, createUniqueApp, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const createApp = () => createUniqueApp(server, 'keys');

async function createKey(body: Record<string, unknown>): Promise<{ id: string; secret: string; client: AdminClient }> {
  const key = await server.admin.ok('POST', '/keys', { name: 'test key', ...body });
  return { id: key.id, secret: key.secret, client: new AdminClient(server.url, key.secret) };
}

describe('managed Admin API keys', () => {
  it('shows the secret once and stores only its SHA-256', async () => {
    const slug = await createApp();
    const created = await server.admin.ok('POST', '/keys', { name: 'CI', scopes: ['accounts:read'], apps: [slug] });
    expect(created).toMatchObject({ id: expect.stringMatching(/^key_/), name: 'CI', scopes: ['accounts:read'], apps: [slug], expires_at: null, last_used_at: null });
    expect(created.secret).toMatch(/^pck_[A-Za-z0-9_-]{43}$/);
    const listed = (await server.admin.ok('GET', '/keys')).find((k: any) => k.id === created.id);
    expect(listed).toEqual({ ...created, secret: undefined, last_used_at: null });
    expect(JSON.stringify(await server.admin.ok('GET', '/keys'))).not.toContain(created.secret);
    const stored = await server.stores.adminKeys.findById(created.id);
    expect(stored?.secretHash).toBe(createHash('sha256').update(created.secret).digest('base64url'));
    expect(JSON.stringify(stored)).not.toContain(created.secret);
  });

  it('a key scoped to one app gets 403 on every other app, and only sees its app', async () => {
    const mine = await createApp();
    const other = await createApp();
    const { client } = await createKey({ scopes: ['accounts:read', 'accounts:write', 'apps:read'], apps: [mine] });
    expect((await client.call('POST', `/apps/${mine}/accounts`, { email: 'in@example.com' })).status).toBe(201);
    expect((await client.call('GET', `/apps/${mine}`)).status).toBe(200);
    for (const [method, path, body] of [
      ['GET', `/apps/${other}`], ['GET', `/apps/${other}/accounts`], ['POST', `/apps/${other}/accounts`, { email: 'out@example.com' }],
      ['GET', '/apps/no-such-app'], ['POST', '/apps', { slug: `${other}-x`, name: 'X' }], ['GET', '/audit'],
    ] as Array<[string, string, unknown?]>) {
      const res = await client.call(method, path, body);
      expect([method, path, res.status, res.body.error]).toEqual([method, path, 403, 'forbidden']);
    }
    const visible = (await client.ok('GET', '/apps')).map((a: any) => a.slug);
    expect(visible).toEqual([mine]);
    // Nothing was created in the other app.
    expect(await server.admin.ok('GET', `/apps/${other}/accounts`)).toEqual([]);
  });

  it('refuses routes outside the scopes (read-only cannot write; nobody but admin manages keys)', async () => {
    const slug = await createApp();
    const { client } = await createKey({ scopes: ['accounts:read'], apps: ['*'] });
    expect((await client.call('GET', `/apps/${slug}/accounts`)).status).toBe(200);
    const write = await client.call('POST', `/apps/${slug}/accounts`, { email: 'no@example.com' });
    expect(write).toEqual({ status: 403, body: { error: 'forbidden', error_description: 'This API key lacks the scope accounts:write.' } });
    expect((await client.call('GET', `/apps/${slug}/tenants`)).status).toBe(403);
    expect((await client.call('GET', '/keys')).status).toBe(403);
    expect((await client.call('POST', '/keys', { name: 'escalate', scopes: ['admin'], apps: ['*'] })).status).toBe(403);
    // Refused before the body is read: an invalid body still answers 403, not 400.
    expect((await client.call('POST', `/apps/${slug}/tenants`, { nonsense: true })).status).toBe(403);
  });

  it('an admin-scoped key may do everything, and its changes are audited with its id', async () => {
    const { id, client } = await createKey({ scopes: ['admin'], apps: ['*'] });
    const slug = `keys-admin-${Date.now().toString(36)}`;
    expect((await client.call('POST', '/apps', { slug, name: 'By key' })).status).toBe(201);
    const account = await client.ok('POST', `/apps/${slug}/accounts`, { email: 'k@example.com' });
    const { items } = await server.admin.ok('GET', `/apps/${slug}/audit`);
    expect(items.filter((e: any) => e.type === 'admin.change').map((e: any) => [e.actor, e.detail.key_name, e.detail.route])).toEqual([
      [id, 'test key', '/admin/v1/apps/:slug/accounts'], [id, 'test key', '/admin/v1/apps'],
    ]);
    expect(items.find((e: any) => e.type === 'account.created')).toMatchObject({ account_id: account.id, actor: id });
    const keyCreation = (await server.admin.ok('GET', '/audit?type=admin.change')).items.find((e: any) => e.detail.route === '/admin/v1/keys');
    expect(keyCreation).toMatchObject({ actor: 'bootstrap', detail: { method: 'POST', status: 201 } });
  });

  it('records last_used_at, and a revoked or expired key is refused with 401', async () => {
    const slug = await createApp();
    const { id, client } = await createKey({ scopes: ['apps:read'], apps: [slug] });
    await client.ok('GET', `/apps/${slug}`);
    const used = (await server.admin.ok('GET', '/keys')).find((k: any) => k.id === id);
    expect(Date.now() - Date.parse(used.last_used_at)).toBeLessThan(10_000);
    expect((await server.admin.call('DELETE', `/keys/${id}`)).status).toBe(204);
    expect((await client.call('GET', `/apps/${slug}`)).status).toBe(401);
    expect((await server.admin.call('DELETE', `/keys/${id}`)).status).toBe(404);

    const soon = await createKey({ scopes: ['apps:read'], apps: [slug], expires_at: new Date(Date.now() + 1500).toISOString() });
    expect((await soon.client.call('GET', `/apps/${slug}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await soon.client.call('GET', `/apps/${slug}`)).status).toBe(401);
  });

  it('validates key definitions', async () => {
    for (const body of [
      { name: 'x', scopes: ['root'], apps: ['*'] },
      { name: 'x', scopes: [], apps: ['*'] },
      { name: 'x', scopes: ['admin'], apps: ['*', 'a'] },
      { name: 'x', scopes: ['admin'], apps: ['Not A Slug'] },
      { name: 'x', scopes: ['admin'], apps: ['*'], expires_at: 'tomorrow' },
      { name: 'x', scopes: ['admin'], apps: ['*'], expires_at: '2001-01-01T00:00:00Z' },
    ]) {
      const res = await server.admin.call('POST', '/keys', body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
    }
  });
});
