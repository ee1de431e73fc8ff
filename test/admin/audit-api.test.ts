/**
 * The audit log over the Admin API, against a running server: filters, cursor paging (newest first, stable while
 * new events arrive), NDJSON export, and every Admin API change recorded with the key that made it.
 */
import { createUniqueApp, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const createApp = () => createUniqueApp(server, 'audit');

/** Every page of the audit log, following `next` until it is null. */
async function walk(slug: string, query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const page: { items: Array<{ id: string }>; next: string | null } = await server.admin.ok('GET',
      `/apps/${slug}/audit?${query}&limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((e) => e.id));
    after = page.next;
    pages += 1;
  } while (after);
  return { ids, pages };
}

describe('GET /apps/{slug}/audit', () => {
  it('records every Admin API change with the key that made it', async () => {
    const slug = await createApp();
    const account = await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'ada@example.com' });
    await server.admin.ok('PATCH', `/apps/${slug}/accounts/${account.id}`, { name: 'Ada' });
    const { items } = await server.admin.ok('GET', `/apps/${slug}/audit?type=admin.change`);
    expect(items.map((e: any) => `${e.detail.method} ${e.detail.route}`)).toEqual([
      'PATCH /admin/v1/apps/:slug/accounts/:id', 'POST /admin/v1/apps/:slug/accounts', 'POST /admin/v1/apps',
    ]);
    for (const e of items) expect(e).toMatchObject({ actor: 'bootstrap', ip: '127.0.0.1', detail: { key_name: 'ADMIN_API_KEY' } });
    expect(items[0].account_id).toBe(account.id);
    const created = (await server.admin.ok('GET', `/apps/${slug}/audit?type=account.created`)).items;
    expect(created).toEqual([expect.objectContaining({ type: 'account.created', account_id: account.id, actor: 'bootstrap' })]);
    // Reads are not changes.
    await server.admin.ok('GET', `/apps/${slug}/accounts/${account.id}`);
    expect((await server.admin.ok('GET', `/apps/${slug}/audit?type=admin.change`)).items).toHaveLength(3);
  });

  it('keeps changes that outlive their app (app deletion) in the global log', async () => {
    const slug = await createApp();
    await server.admin.call('DELETE', `/apps/${slug}`);
    const { items } = await server.admin.ok('GET', '/audit?type=admin.change&limit=200');
    expect(items.find((e: any) => e.detail.app === slug)).toMatchObject({ actor: 'bootstrap', detail: { method: 'DELETE', status: 204 } });
  });

  it('filters by type prefix and account, newest first', async () => {
    const slug = await createApp();
    const a = await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'a@example.com' });
    const b = await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'b@example.com' });
    await server.admin.ok('PATCH', `/apps/${slug}/accounts/${a.id}`, { name: 'A' });
    const accountEvents = (await server.admin.ok('GET', `/apps/${slug}/audit?type=account.`)).items;
    expect(accountEvents.map((e: any) => [e.type, e.account_id])).toEqual([['account.updated', a.id], ['account.created', b.id], ['account.created', a.id]]);
    const ofA = (await server.admin.ok('GET', `/apps/${slug}/audit?account_id=${a.id}`)).items;
    expect(new Set(ofA.map((e: any) => e.account_id))).toEqual(new Set([a.id]));
    expect(ofA.map((e: any) => e.type).sort()).toEqual(['account.created', 'account.updated', 'admin.change', 'admin.change']);
    const byIp = (await server.admin.ok('GET', `/apps/${slug}/audit?ip=127.0.0.1`)).items;
    expect(byIp.length).toBeGreaterThanOrEqual(4);
    expect((await server.admin.ok('GET', `/apps/${slug}/audit?ip=198.51.100.7`)).items).toEqual([]);
  });

  it('bounds by since/until and pages with a cursor that stays stable while events arrive', async () => {
    const slug = await createApp();
    for (let n = 0; n < 7; n++) await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: `p${n}@example.com` });
    const all = (await server.admin.ok('GET', `/apps/${slug}/audit?type=account.created&limit=200`)).items;
    expect(all).toHaveLength(7);
    const first = await server.admin.ok('GET', `/apps/${slug}/audit?type=account.created&limit=3`);
    expect(first.items.map((e: any) => e.id)).toEqual(all.slice(0, 3).map((e: any) => e.id));
    // A new event at the top does not shift the next page.
    await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'late@example.com' });
    const second = await server.admin.ok('GET', `/apps/${slug}/audit?type=account.created&limit=3&after=${encodeURIComponent(first.next)}`);
    expect(second.items.map((e: any) => e.id)).toEqual(all.slice(3, 6).map((e: any) => e.id));
    const walked = await walk(slug, 'type=account.created', 3);
    expect(walked.ids).toHaveLength(8);
    expect(new Set(walked.ids).size).toBe(8);
    expect(walked.pages).toBe(3);

    const oldest = new Date(all[6].created_at);
    const newest = new Date(all[0].created_at);
    const sinceNewest = (await server.admin.ok('GET', `/apps/${slug}/audit?type=account.created&since=${newest.toISOString()}`)).items;
    expect(sinceNewest.map((e: any) => e.id)).toContain(all[0].id);
    expect(sinceNewest.every((e: any) => new Date(e.created_at) >= newest)).toBe(true);
    const untilOldest = (await server.admin.ok('GET', `/apps/${slug}/audit?until=${new Date(oldest.getTime() + 1).toISOString()}&type=account.created`)).items;
    expect(untilOldest.map((e: any) => e.id)).toContain(all[6].id);
    expect(untilOldest.every((e: any) => new Date(e.created_at) <= oldest)).toBe(true);
  });

  it('refuses bad filters with a 400 naming the field', async () => {
    const slug = await createApp();
    for (const query of ['limit=201', 'limit=0', 'since=yesterday', 'colour=red', 'after=bm90LWEtY3Vyc29y']) {
      const res = await server.admin.call('GET', `/apps/${slug}/audit?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
      expect(res.body.error).toBe('invalid_request');
    }
  });
});

describe('GET /apps/{slug}/audit/export', () => {
  it('streams every matching event as NDJSON, newest first', async () => {
    const slug = await createApp();
    for (let n = 0; n < 3; n++) await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: `x${n}@example.com` });
    const res = await fetch(`${server.url}/admin/v1/apps/${slug}/audit/export?type=account.`, { headers: { authorization: `Bearer ${'test-admin-key-0123456789abcdef'}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text()).split('\n');
    expect(lines.pop()).toBe('');
    const events = lines.map((line) => JSON.parse(line));
    expect(events.map((e) => e.type)).toEqual(['account.created', 'account.created', 'account.created']);
    const listed = (await server.admin.ok('GET', `/apps/${slug}/audit?type=account.`)).items;
    expect(events).toEqual(listed);
  });

  it('answers an empty export with an empty body', async () => {
    const slug = await createApp();
    const res = await fetch(`${server.url}/admin/v1/apps/${slug}/audit/export?type=nothing.`, { headers: { authorization: 'Bearer test-admin-key-0123456789abcdef' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});
