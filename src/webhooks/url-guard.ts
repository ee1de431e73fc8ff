/**
 * SSRF protection for webhook URLs (OWASP ASVS V12.6.1, OWASP SSRF Prevention Cheat Sheet): https only when the
 * server is public, no credentials in the URL, and no host that resolves to loopback, link-local, private, shared,
 * multicast or reserved addresses unless an operator allows it (WEBHOOK_ALLOW_PRIVATE=true). Checked when the
 * endpoint is saved and again before every attempt (DNS can change); redirects are never followed.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InvalidRequestError } from '../errors.js';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96], ['100::', 64],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

/** True for addresses a webhook must not reach without WEBHOOK_ALLOW_PRIVATE. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1], 'ipv4');
  return blocked.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

export interface UrlPolicy {
  /** PUBLIC_URL is https: webhook URLs must be https too. */
  requireHttps: boolean;
  allowPrivate: boolean;
}

/** The parsed URL, or a 400 naming the rule it breaks (shape only; see {@link assertReachableHost}). */
export function checkWebhookUrl(value: string, policy: UrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidRequestError('`url` must be an absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidRequestError('`url` must be an https URL.');
  if (url.protocol === 'http:' && policy.requireHttps) throw new InvalidRequestError('`url` must be an https URL.');
  if (url.username || url.password) throw new InvalidRequestError('`url` must not contain credentials.');
  if (url.hash) throw new InvalidRequestError('`url` must not have a fragment.');
  return url;
}

/** Resolves the host and refuses it when any address is private (unless allowed). Throws InvalidRequestError. */
export async function assertReachableHost(url: URL, policy: UrlPolicy): Promise<void> {
  await vettedAddress(url, policy);
}

/**
 * The address a delivery connects to: resolved once, checked, and then used for the connection itself (see
 * `pinned-post.ts`), so a DNS answer that changes between the check and the connection (DNS rebinding) cannot
 * redirect the request to a private address.
 */
export async function vettedAddress(url: URL, policy: UrlPolicy): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) throw new InvalidRequestError('`url` has a host that does not resolve.');
  if (!policy.allowPrivate && addresses.some(isPrivateAddress)) {
    throw new InvalidRequestError('`url` resolves to a loopback, link-local or private address (set WEBHOOK_ALLOW_PRIVATE=true to allow).');
  }
  if (url.protocol === 'http:' && !addresses.every((a) => a === '::1' || a.startsWith('127.'))) {
    // Plain http is a development convenience for a receiver on this machine only.
    throw new InvalidRequestError('`url` may use http only for a loopback receiver; use https.');
  }
  return { address: addresses[0], family: isIP(addresses[0]) === 6 ? 6 : 4 };
}
