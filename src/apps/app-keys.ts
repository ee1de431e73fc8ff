import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { randomId } from '../crypto/random.js';
import type { AppKeysRecord } from '../storage/ports.js';

async function signingKey(alg: 'ES256' | 'RS256'): Promise<Record<string, unknown>> {
  // Async key generation runs on the thread pool (RSA-2048 takes ~100 ms), off the event loop.
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

/**
 * A new app's keys: ES256 signs by default (first in the set); RS256 is published too because OIDC Core §15.1 makes
 * it mandatory to support. Cookie keys sign the app's session cookies (Koa keygrip), so cookies of one app are
 * meaningless to another and every server process shares them through the store.
 */
export async function generateAppKeys(appId: string): Promise<AppKeysRecord> {
  const [es256, rs256] = await Promise.all([signingKey('ES256'), signingKey('RS256')]);
  return { appId, jwks: [es256, rs256], cookieKeys: [randomId(32), randomId(32)], createdAt: new Date() };
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'alg', 'use', 'kid'];

/** Public parts only (what JWKS shows). */
export function publicJwk(jwk: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(jwk).filter(([k]) => PUBLIC_MEMBERS.includes(k)));
}
