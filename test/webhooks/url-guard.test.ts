/**
 * The webhook URL rules that the end-to-end suite cannot reach from a loopback test server: https only when
 * PUBLIC_URL is https, http only for a loopback receiver, and the address ranges refused as SSRF targets.
 */
import { assertReachableHost, checkWebhookUrl, isPrivateAddress } from '../../src/webhooks/url-guard.js';
import { backoffMs, retryAfterMs } from '../../src/webhooks/delivery-worker.js';

/** The 400's description, or '' when nothing was thrown. */
function refusalOf(run: () => unknown): string {
  try {
    run();
    return '';
  } catch (err) {
    return (err as { error_description: string }).error_description;
  }
}
async function asyncRefusal(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => '', (err: { error_description: string }) => err.error_description);
}

describe('webhook URL policy', () => {
  it('requires https when the server is public', () => {
    const production = { requireHttps: true, allowPrivate: false };
    expect(refusalOf(() => checkWebhookUrl('http://hooks.example.com/x', production))).toBe('`url` must be an https URL.');
    expect(checkWebhookUrl('https://hooks.example.com/x', production).href).toBe('https://hooks.example.com/x');
    expect(refusalOf(() => checkWebhookUrl('https://u:p@hooks.example.com/x', production))).toMatch(/credentials/);
  });

  it('allows http only to a loopback receiver (development), and private targets only when allowed', async () => {
    const dev = { requireHttps: false, allowPrivate: true };
    expect(await asyncRefusal(assertReachableHost(new URL('http://127.0.0.1:9/x'), dev))).toBe('');
    expect(await asyncRefusal(assertReachableHost(new URL('http://10.0.0.1/x'), dev))).toMatch(/http only for a loopback/);
    expect(await asyncRefusal(assertReachableHost(new URL('https://10.0.0.1/x'), dev))).toBe('');
    expect(await asyncRefusal(assertReachableHost(new URL('https://10.0.0.1/x'), { ...dev, allowPrivate: false }))).toMatch(/private/);
  });

  it('classifies addresses', () => {
    for (const a of ['127.0.0.1', '10.9.8.7', '172.31.0.1', '192.168.0.1', '169.254.169.254', '100.64.1.1', '0.0.0.0', '::1', 'fe80::1', 'fd12::1', '::ffff:10.0.0.1', '224.0.0.1']) {
      expect([a, isPrivateAddress(a)]).toEqual([a, true]);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) expect([a, isPrivateAddress(a)]).toEqual([a, false]);
  });
});

describe('retry schedule', () => {
  it('grows 5 s, 30 s, 2 min, 10 min, 1 h … up to 24 h, with ±20 % jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 5000, mid))).toEqual([5000, 30_000, 120_000, 600_000, 3_600_000]);
    expect(backoffMs(50, 5000, mid)).toBe(24 * 3_600_000);
    expect(backoffMs(1, 5000, () => 0)).toBe(4000);
    expect(backoffMs(1, 5000, () => 1)).toBe(6000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 1)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(60_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
