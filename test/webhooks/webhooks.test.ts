/**
 * Webhooks end to end: a real receiver verifies every request with `standardwebhooks`' own verifier; events arrive
 * for each action; a failed attempt is retried with the same webhook-id; Retry-After is honoured; redirects are not
 * followed; secrets rotate with both signatures for a while; a failing endpoint is disabled and audited.
 */
import { Webhook } from 'standardwebhooks';
import { Browser } from '../support/browser.js';
import { setUpRp, signIn } from '../support/rp.js';
import { messagesTo } from '../support/outbox.js';
import { startServer, type TestServer } from '../support/server.js';
import { startReceiver, type Received, type Receiver } from '../support/webhook-receiver.js';

const FAST = { WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_POLL_MS: '25' };

let server: TestServer;
let receiver: Receiver;
beforeAll(async () => {
  server = await startServer({ env: FAST });
});
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(() => receiver.close());
afterAll(() => server.close());

let counter = 0;
async function appWithHook(events: string[] = ['*'], target?: string): Promise<{ slug: string; hook: any }> {
  const slug = `hooks-${++counter}-${Date.now().toString(36)}`;
  await server.admin.ok('POST', '/apps', { slug, name: `App ${slug}` });
  const hook = await server.admin.ok('POST', `/apps/${slug}/webhooks`, { url: target ?? receiver.url, events, description: 'test receiver' });
  return { slug, hook };
}

/** Verifies with the library's verifier (signature, timestamp tolerance) and returns the parsed body. */
function verified(secret: string, r: Received): any {
  return new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
}

const ofType = (type: string) => (r: Received) => JSON.parse(r.body).type === type;

describe('webhook endpoints', () => {
  it('returns the whsec_ secret only at creation, and validates input', async () => {
    const { slug, hook } = await appWithHook(['account.created']);
    expect(hook).toMatchObject({ id: expect.stringMatching(/^wh_/), url: receiver.url, events: ['account.created'], enabled: true, description: 'test receiver' });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(await server.admin.ok('GET', `/apps/${slug}/webhooks/${hook.id}`)).toEqual({ ...hook, secret: undefined });
    expect(JSON.stringify(await server.admin.ok('GET', `/apps/${slug}/webhooks`))).not.toContain(hook.secret);
    for (const body of [
      { url: receiver.url, events: ['nope.event'] }, { url: receiver.url, events: [] }, { url: receiver.url, events: ['*', 'account.created'] },
      { url: 'ftp://127.0.0.1/x', events: ['*'] }, { url: 'not a url', events: ['*'] }, { url: 'http://user:pw@127.0.0.1/x', events: ['*'] },
      { url: receiver.url, events: ['*'], colour: 'red' },
    ]) {
      const res = await server.admin.call('POST', `/apps/${slug}/webhooks`, body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
    }
    const patched = await server.admin.ok('PATCH', `/apps/${slug}/webhooks/${hook.id}`, { events: ['*'], enabled: false });
    expect(patched).toMatchObject({ events: ['*'], enabled: false });
    expect((await server.admin.call('DELETE', `/apps/${slug}/webhooks/${hook.id}`)).status).toBe(204);
    expect((await server.admin.call('GET', `/apps/${slug}/webhooks/${hook.id}`)).status).toBe(404);
  });

  it('delivers a signed event for each action, verified by the standardwebhooks verifier', async () => {
    const { slug, hook } = await appWithHook();
    const account = await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'ada@example.com', password: 'correct horse battery', email_verified: true });
    await server.admin.ok('PATCH', `/apps/${slug}/accounts/${account.id}`, { name: 'Ada' });
    await server.admin.ok('PATCH', `/apps/${slug}/accounts/${account.id}`, { status: 'deactivated' });
    await server.admin.ok('PATCH', `/apps/${slug}/accounts/${account.id}`, { status: 'active' });
    await server.admin.ok('PATCH', `/apps/${slug}/accounts/${account.id}`, { password: 'another long passphrase' });
    const tenant = await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'acme', name: 'Acme' });
    await server.admin.ok('PATCH', `/apps/${slug}/tenants/acme`, { name: 'Acme Ltd' });
    await server.admin.ok('PUT', `/apps/${slug}/tenants/acme/members/${account.id}`, { roles: ['member'] });
    await server.admin.ok('PUT', `/apps/${slug}/tenants/acme/members/${account.id}`, { roles: ['admin'] });
    await server.admin.call('DELETE', `/apps/${slug}/tenants/acme/members/${account.id}`);
    await server.admin.call('DELETE', `/apps/${slug}/tenants/acme`);
    const client = await server.admin.ok('POST', `/apps/${slug}/clients`, { name: 'Portal', redirect_uris: ['https://rp.example.test/cb'] });
    await server.admin.call('DELETE', `/apps/${slug}/clients/${client.client_id}`);
    await server.admin.ok('POST', `/apps/${slug}/invitations`, { email: 'grace@example.com' });
    await server.admin.call('DELETE', `/apps/${slug}/accounts/${account.id}`);

    const expected = [
      'account.created', 'account.updated', 'account.updated', 'account.deactivated', 'account.updated', 'account.reactivated',
      'account.updated', 'account.password_changed', 'tenant.created', 'tenant.updated', 'membership.added', 'membership.updated',
      'membership.removed', 'tenant.deleted', 'client.created', 'client.deleted', 'account.created', 'invitation.created', 'account.deleted',
    ];
    const got = await receiver.waitFor(expected.length);
    const bodies = got.map((r) => verified(hook.secret, r) as any);
    expect(bodies.map((b) => b.type).sort()).toEqual([...expected].sort());
    for (const r of got) {
      expect(r.headers['webhook-id']).toMatch(/^msg_/);
      expect(r.headers['content-type']).toBe('application/json');
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    }
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(expected.length);
    const created = bodies.find((b) => b.type === 'account.created' && b.data.account_id === account.id);
    expect(created).toEqual({ type: 'account.created', timestamp: expect.any(String), data: { event_id: expect.stringMatching(/^evt_/), app: slug, account_id: account.id, actor: 'bootstrap', by: 'admin' } });
    expect(bodies.find((b) => b.type === 'membership.updated').data).toMatchObject({ tenant_id: tenant.id, account_id: account.id, roles: 'admin' });
    // No secret ever travels in a payload.
    for (const r of got) expect(r.body).not.toMatch(/passphrase|battery|client_secret|whsec_/);
    // A tampered body fails the library's verification.
    expect(() => new Webhook(hook.secret).verify(got[0].body.replace('"type"', '"typ\\u0065"'), got[0].headers as Record<string, string>)).toThrow();
  });

  it('delivers sign-in events (succeeded, failed) from the sign-in core', async () => {
    const slug = `hooks-signin-${Date.now().toString(36)}`;
    const rp = await setUpRp(server, slug);
    const hook = await server.admin.ok('POST', `/apps/${slug}/webhooks`, { url: receiver.url, events: ['sign_in.succeeded', 'sign_in.failed'] });
    const account = await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'ada@example.com', password: 'correct horse battery', email_verified: true });
    await expect(signIn(rp, new Browser(server.url), 'ada@example.com', 'wrong horse battery')).rejects.toThrow();
    await signIn(rp, new Browser(server.url), 'ada@example.com', 'correct horse battery');
    const got = await receiver.waitFor(2);
    const bodies = got.map((r) => verified(hook.secret, r) as any);
    expect(bodies.find((b) => b.type === 'sign_in.failed').data).toMatchObject({ app: slug, method: 'password', reason: 'invalid_credentials', ip: '127.0.0.1' });
    expect(bodies.find((b) => b.type === 'sign_in.succeeded').data).toMatchObject({ account_id: account.id, amr: 'pwd', client_id: rp.clientId });
    expect(got.map((r) => r.body).join()).not.toContain('horse');
  });

  it('sends sign_in.locked once, when failed passwords lock the identifier', async () => {
    const slug = `hooks-locked-${Date.now().toString(36)}`;
    const rp = await setUpRp(server, slug);
    const hook = await server.admin.ok('POST', `/apps/${slug}/webhooks`, { url: receiver.url, events: ['sign_in.locked'] });
    await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'ada@example.com', password: 'correct horse battery', email_verified: true });
    // passwordPerIdentifierAndIp allows 10 failures per 15 minutes; the 10th locks, the 11th is refused without a new event.
    for (let n = 0; n < 11; n++) await expect(signIn(rp, new Browser(server.url), 'ada@example.com', `wrong horse ${n}`)).rejects.toThrow();
    const [locked] = await receiver.waitFor(1);
    expect(verified(hook.secret, locked)).toMatchObject({ type: 'sign_in.locked', data: { app: slug, method: 'password', limit: 'password:identifier-ip', ip: '127.0.0.1' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received).toHaveLength(1);
    expect(locked.body).not.toContain('ada@example.com');
  });

  it('delivers account-center events: support PIN created, verified and locked; sessions and grants revoked', async () => {
    const { slug, hook } = await appWithHook(['support_pin.created', 'support_pin.verified', 'support_pin.locked', 'session.revoked', 'grant.revoked']);
    const account = await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'pin@example.com' });
    await server.admin.ok('POST', `/apps/${slug}/accounts/${account.id}/support-pin/verify`, { pin: '000000' });
    await server.admin.call('DELETE', `/apps/${slug}/accounts/${account.id}/sessions`);
    const got = (await receiver.waitFor(2)).map((r) => verified(hook.secret, r));
    expect(got.map((b) => b.type).sort()).toEqual(['session.revoked', 'support_pin.verified']);
    expect(got.find((b) => b.type === 'support_pin.verified').data).toMatchObject({ account_id: account.id, valid: false });
    expect(got.find((b) => b.type === 'session.revoked').data).toMatchObject({ account_id: account.id, by: 'admin', session: 'all' });
  });

  it('sends only subscribed events', async () => {
    const { slug, hook } = await appWithHook(['tenant.created']);
    await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'x@example.com' });
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'only', name: 'Only' });
    const [r] = await receiver.waitFor(1);
    expect(verified(hook.secret, r).type).toBe('tenant.created');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received).toHaveLength(1);
  });
});

describe('delivery', () => {
  it('retries a 500 with the same webhook-id and records each attempt', async () => {
    const { slug, hook } = await appWithHook(['tenant.created']);
    receiver.answer(500);
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'retry', name: 'Retry' });
    const [first, second] = await receiver.waitFor(2);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(verified(hook.secret, second)).toEqual(verified(hook.secret, first));
    expect(second.at - first.at).toBeGreaterThanOrEqual(35); // first retry after ~WEBHOOK_RETRY_BASE_MS (±20 %)
    await waitUntil(async () => (await deliveries(slug, hook.id))[0]?.status === 'delivered');
    const [delivery] = await deliveries(slug, hook.id);
    expect(delivery).toMatchObject({ id: first.headers['webhook-id'], type: 'tenant.created', status: 'delivered', attempts: 2, last_status_code: 200, next_attempt_at: null });
    expect(delivery.last_latency_ms).toEqual(expect.any(Number));
    // The endpoint recovered: no failing run is left.
    expect((await server.admin.ok('GET', `/apps/${slug}/webhooks/${hook.id}`)).failing_since).toBeNull();
  });

  it('honours Retry-After', async () => {
    const { slug } = await appWithHook(['tenant.created']);
    receiver.answer({ status: 503, headers: { 'retry-after': '1' } });
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'later', name: 'Later' });
    const [first, second] = await receiver.waitFor(2, undefined, 5000);
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
  });

  it('does not follow redirects', async () => {
    const elsewhere = await startReceiver();
    try {
      const { slug, hook } = await appWithHook(['tenant.created']);
      receiver.answer({ status: 307, headers: { location: elsewhere.url } });
      await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'redirect', name: 'Redirect' });
      await receiver.waitFor(2);
      expect(elsewhere.received).toHaveLength(0);
      const [delivery] = await deliveries(slug, hook.id);
      expect(delivery.attempts).toBeGreaterThanOrEqual(1);
    } finally {
      await elsewhere.close();
    }
  });

  it('sends a signed webhook.test and re-sends a delivery on request', async () => {
    const { slug, hook } = await appWithHook(['tenant.created']);
    const queued = await server.admin.call('POST', `/apps/${slug}/webhooks/${hook.id}/test`);
    expect(queued.status).toBe(202);
    const [test] = await receiver.waitFor(1, ofType('webhook.test'));
    expect(verified(hook.secret, test)).toMatchObject({ type: 'webhook.test', data: { app: slug, webhook_id: hook.id } });
    expect(test.headers['webhook-id']).toBe(queued.body.id);
    await waitUntil(async () => (await deliveries(slug, hook.id))[0]?.status === 'delivered');
    const retried = await server.admin.call('POST', `/apps/${slug}/webhooks/${hook.id}/deliveries/${queued.body.id}/retry`);
    expect(retried.status).toBe(202);
    const again = await receiver.waitFor(2, ofType('webhook.test'));
    expect(again[1].headers['webhook-id']).toBe(queued.body.id);
    expect((await server.admin.call('POST', `/apps/${slug}/webhooks/${hook.id}/deliveries/msg_nothing/retry`)).status).toBe(404);
  });

  it('pages the delivery log newest first', async () => {
    const { slug, hook } = await appWithHook(['tenant.created']);
    for (const n of [1, 2, 3]) await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: `t${n}`, name: `T${n}` });
    await receiver.waitFor(3);
    const first = await server.admin.ok('GET', `/apps/${slug}/webhooks/${hook.id}/deliveries?limit=2`);
    expect(first.items).toHaveLength(2);
    const second = await server.admin.ok('GET', `/apps/${slug}/webhooks/${hook.id}/deliveries?limit=2&after=${encodeURIComponent(first.next)}`);
    expect(second).toMatchObject({ items: [expect.any(Object)], next: null });
    const ids = [...first.items, ...second.items].map((d: any) => d.event_id);
    expect(new Set(ids).size).toBe(3);
  });

  it('rotates the secret: both signatures for 24 h, each verifies on its own', async () => {
    const { slug, hook } = await appWithHook(['tenant.created']);
    const rotated = await server.admin.ok('POST', `/apps/${slug}/webhooks/${hook.id}/secret`);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(hook.secret);
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'rotated', name: 'Rotated' });
    const [r] = await receiver.waitFor(1);
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verified(hook.secret, r).type).toBe('tenant.created');
    expect(verified(rotated.secret, r).type).toBe('tenant.created');
    // A second rotation drops the oldest: only the last two secrets sign.
    const third = await server.admin.ok('POST', `/apps/${slug}/webhooks/${hook.id}/secret`);
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'rotated-2', name: 'Rotated 2' });
    const [, r2] = await receiver.waitFor(2);
    expect(String(r2.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verified(third.secret, r2).type).toBe('tenant.created');
    expect(() => verified(hook.secret, r2)).toThrow();
  });
});

describe('a failing endpoint', () => {
  let failing: TestServer;
  beforeAll(async () => {
    // Attempts come at about 0, 50, 350 and 1,550 ms (the retry schedule at a 50 ms base, ±20 %): a 1,200 ms window
    // is crossed by the fourth attempt, with room for a first attempt that starts late on a loaded machine. (With
    // 400 ms, a first attempt 50 ms late made the third attempt's event too old while the endpoint had failed for
    // less than the window: the event failed and the endpoint, correctly, stayed enabled.)
    failing = await startServer({ env: { ...FAST, WEBHOOK_DISABLE_AFTER_MS: '1200' } });
  });
  afterAll(() => failing.close());

  it('is disabled after the disable window, its event fails, and webhook.disabled is audited', async () => {
    const slug = `hooks-failing-${Date.now().toString(36)}`;
    await failing.admin.ok('POST', '/apps', { slug, name: 'Failing', settings: { admin_contact: 'ops@example.com' } });
    const hook = await failing.admin.ok('POST', `/apps/${slug}/webhooks`, { url: receiver.url, events: ['tenant.created'] });
    receiver.answer(...Array.from({ length: 50 }, () => 500));
    await failing.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'down', name: 'Down' });
    await waitUntil(async () => !(await failing.admin.ok('GET', `/apps/${slug}/webhooks/${hook.id}`)).enabled, 15_000);
    const disabled = await failing.admin.ok('GET', `/apps/${slug}/webhooks/${hook.id}`);
    expect(disabled).toMatchObject({ enabled: false, disabled_reason: 'failing', failing_since: expect.any(String) });
    const [delivery] = (await failing.admin.ok('GET', `/apps/${slug}/webhooks/${hook.id}/deliveries`)).items;
    expect(delivery).toMatchObject({ status: 'failed', last_status_code: 500 });
    expect(delivery.attempts).toBeGreaterThanOrEqual(2);
    const audit = (await failing.admin.ok('GET', `/apps/${slug}/audit?type=webhook.`)).items;
    expect(audit).toEqual([expect.objectContaining({ type: 'webhook.disabled', detail: expect.objectContaining({ webhook_id: hook.id }) })]);
    // The app's admin contact is told, with the endpoint and since when it failed.
    const notice = await waitForValue(async () => (await messagesTo(failing, slug, 'ops@example.com'))[0]);
    expect(notice.subject).toBe('A webhook endpoint of Failing was disabled');
    expect(notice.text).toContain(receiver.url);
    expect(notice.text).toContain(disabled.failing_since);
    // Re-enabling clears the failure state.
    const reenabled = await failing.admin.ok('PATCH', `/apps/${slug}/webhooks/${hook.id}`, { enabled: true });
    expect(reenabled).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
  });
});

async function waitForValue<T>(read: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('no value in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('SSRF protection', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE: 'false' } });
  });
  afterAll(() => strict.close());

  it('refuses URLs that resolve to loopback, private or link-local addresses unless allowed', async () => {
    const slug = `hooks-ssrf-${Date.now().toString(36)}`;
    await strict.admin.ok('POST', '/apps', { slug, name: 'SSRF' });
    for (const url of [receiver.url, 'http://localhost:9/x', 'https://10.1.2.3/x', 'https://192.168.1.1/x', 'https://169.254.169.254/latest/meta-data',
      'https://[::1]/x', 'https://[fd00::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://0.0.0.0/x', 'https://100.64.0.1/x']) {
      const res = await strict.admin.call('POST', `/apps/${slug}/webhooks`, { url, events: ['*'] });
      expect([url, res.status, res.body.error]).toEqual([url, 400, 'invalid_request']);
    }
    expect((await strict.admin.call('POST', `/apps/${slug}/webhooks`, { url: 'https://no-such-host.invalid/x', events: ['*'] })).status).toBe(400);
  });
});

async function deliveries(slug: string, id: string): Promise<any[]> {
  return (await server.admin.ok('GET', `/apps/${slug}/webhooks/${id}/deliveries`)).items;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
