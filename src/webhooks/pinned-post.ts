/**
 * One webhook POST over node:http(s), connected to an address checked beforehand (`lookup` returns it instead of
 * resolving again), with a time limit covering the whole exchange. Redirects are not followed (node:http never does).
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export interface PostResult {
  status: number;
  retryAfter: string | null;
}

export function pinnedPost(
  url: URL, target: { address: string; family: 4 | 6 }, headers: Record<string, string>, body: string, timeoutMs: number,
): Promise<PostResult> {
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve, reject) => {
    const req = transport.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup,
      agent: false,
      signal: AbortSignal.timeout(timeoutMs),
    }, (res) => {
      // The answer's body is not needed: drain it so the socket closes.
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: (res.headers['retry-after'] as string | undefined) ?? null }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(err.name === 'AbortError' ? Object.assign(new Error('timed out'), { name: 'TimeoutError' }) : err));
    req.end(body);
  });
}
