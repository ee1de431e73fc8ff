/**
 * The one place that decides how Redis key names look, for both Redis stores.
 *
 * Redis Cluster runs a multi-key command, MULTI or script only when every key it names lives in one hash slot, and
 * the slot of a key is the CRC16 of its hash tag (the part between the first `{` and the next `}`) when it has one
 * (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags). The tag is the **app id**:
 * - every key of one app (OIDC records, their indexes, codes, counters) shares one slot, so a script or MULTI over
 *   one app's keys is valid on a cluster;
 * - different apps get different slots, so several apps spread over the cluster's primaries (one global tag would
 *   put everything on one node).
 * Nothing may combine keys of two apps in one command: the stores never do, and new scripts must not either.
 *
 * Layout (prefix `pc:` by default):
 * - OIDC adapter: `pc:{appId}:{Model}:{id}`, `pc:{appId}:uid:…`, `pc:{appId}:userCode:…`, `pc:{appId}:grant:…`;
 * - ephemeral store: the key `app:{appId}:{kind}:{id}` of `../short-lived-keys.ts` becomes `pc:app:{appId}:{kind}:{id}`
 *   (the same name with the app id braced). A key outside that shape keeps its name (no tag): such keys are only
 *   ever used by single-key commands.
 */

/** `{prefix}{{appId}}`: the head of every OIDC adapter key of one app. */
export function oidcAppKey(prefix: string, appId: string): string {
  return `${prefix}{${appId}}`;
}

/** `app:{appId}:…` as built by `shortLivedKey`; the app id never contains `:` (see `prefixedId`). */
const APP_SCOPED = /^app:([^:{}]+):/;

/** The Redis name of an ephemeral-store key: the app id becomes the hash tag (see the module comment). */
export function ephemeralKey(prefix: string, key: string): string {
  const scoped = APP_SCOPED.exec(key);
  if (!scoped) return `${prefix}${key}`;
  return `${prefix}app:{${scoped[1]}}:${key.slice(scoped[0].length)}`;
}
