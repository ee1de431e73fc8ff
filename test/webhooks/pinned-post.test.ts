/**
 * The delivery transport: it connects to the address checked beforehand (never resolving the host again, so DNS
 * rebinding cannot move it), keeps the Host header of the URL, does not follow redirects and times out.
 */
import { pinnedPost } from '../../src/webhooks/pinned-post.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(() => receiver.close());

const loopback = { address: '127.0.0.1', family: 4 as const };

it('connects to the vetted address whatever the host name resolves to', async () => {
  const port = new URL(receiver.url).port;
  // `.invalid` never resolves (RFC 6761): the request can only arrive through the pinned address.
  const res = await pinnedPost(new URL(`http://hooks.rebind.invalid:${port}/hook`), loopback, { 'x-test': '1' }, '{"a":1}', 2000);
  expect(res.status).toBe(200);
  expect(receiver.received).toHaveLength(1);
  expect(receiver.received[0]).toMatchObject({ body: '{"a":1}', headers: { host: `hooks.rebind.invalid:${port}`, 'x-test': '1' } });
});

it('returns a redirect as it is, without following it', async () => {
  receiver.answer({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere', 'retry-after': '7' } });
  const res = await pinnedPost(new URL(receiver.url), loopback, {}, '{}', 2000);
  expect(res).toEqual({ status: 302, retryAfter: '7' });
  expect(receiver.received).toHaveLength(1);
});

it('times out a receiver that does not answer', async () => {
  receiver.answer({ status: 200, delayMs: 1500 });
  const started = Date.now();
  await expect(pinnedPost(new URL(receiver.url), loopback, {}, '{}', 200)).rejects.toMatchObject({ name: 'TimeoutError' });
  expect(Date.now() - started).toBeLessThan(1000);
});
