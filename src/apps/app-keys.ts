import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { randomId } from '../crypto/random.js';
import type { AppKeysRecord, AppKeysRepository } from '../storage/ports.js';

type Jwk = Record<string, unknown>;

async function signingKey(alg: 'ES256' | 'RS256'): Promise<Jwk> {
  // Async key generation runs on the thread pool (RSA-2048 takes ~100 ms), off the event loop.
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

/**
 * A few RSA-2048 keys generated ahead of need, so the first use of an app does not wait ~100 ms for one. It fills
 * only after its first use (a process that never completes an app's keys never spends CPU on it), one key at a
 * time, and each key is handed out once.
 */
class RsaKeyPool {
  private readonly ready: Jwk[] = [];
  private filling = false;

  constructor(private readonly size: number) {}

  async take(): Promise<Jwk> {
    const key = this.ready.shift() ?? (await signingKey('RS256'));
    this.fill();
    return key;
  }

  private fill(): void {
    if (this.filling || this.ready.length >= this.size) return;
    this.filling = true;
    signingKey('RS256')
      .then((key) => { this.ready.push(key); }, () => undefined)
      .finally(() => { this.filling = false; this.fill(); });
  }
}

const rsaPool = new RsaKeyPool(4);

/**
 * A new app's keys: ES256 (first in the set, cheap to generate) and cookie keys. Cookie keys sign the app's session
 * cookies (Koa keygrip), so cookies of one app are meaningless to another and every server process shares them
 * through the store. The RS256 key that OIDC Core §15.1 makes mandatory to support is added by
 * {@link completeAppKeys} before the app's provider is first built, i.e. before its JWKS is ever published, so
 * creating many apps is not bound by RSA key generation. `withRsa` generates it at once (key rotation).
 */
export async function generateAppKeys(appId: string, options: { withRsa?: boolean } = {}): Promise<AppKeysRecord> {
  const keys = await Promise.all([signingKey('ES256'), ...(options.withRsa ? [rsaPool.take()] : [])]);
  return { appId, jwks: keys, cookieKeys: [randomId(32), randomId(32)], createdAt: new Date() };
}

const hasRsa = (keys: AppKeysRecord) => keys.jwks.some((k) => k.kty === 'RSA');
const completing = new Map<string, Promise<AppKeysRecord | undefined>>();

/**
 * The app's keys with an RS256 key among them, adding one (from the pool) and saving it when the app has none yet.
 * Called before an app's provider is built, so the JWKS a relying party sees already holds both keys and stays the
 * same until the next rotation. Single-flight per app in this process; before saving, the record is read again
 * and a key another process saved meanwhile wins over ours (the window left is that read-then-write).
 */
export async function completeAppKeys(appId: string, repository: AppKeysRepository): Promise<AppKeysRecord | undefined> {
  const current = await repository.get(appId);
  if (!current || hasRsa(current)) return current;
  let pending = completing.get(appId);
  if (!pending) {
    pending = (async () => {
      const rsa = await rsaPool.take();
      const latest = await repository.get(appId);
      if (!latest || hasRsa(latest)) return latest;
      const completed = { ...latest, jwks: [...latest.jwks, rsa] };
      await repository.put(completed);
      return completed;
    })().finally(() => completing.delete(appId));
    completing.set(appId, pending);
  }
  return pending;
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'alg', 'use', 'kid'];

/** Public parts only (what JWKS shows). */
export function publicJwk(jwk: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(jwk).filter(([k]) => PUBLIC_MEMBERS.includes(k)));
}
