/** Where a person lands after a sign-in that started outside an authorization request: the one rule. */
import type { AppVisit } from './attempt.js';

/**
 * OIDC Core §4 (initiating login from a third party): the client's `initiate_login_uri`, else the app's
 * `invitation_landing_uri`; with `iss` (required) and `login_hint`. Undefined when the app has neither.
 */
export async function landingUri(visit: AppVisit, clientId: string | undefined, loginHint: string | undefined): Promise<string | undefined> {
  const place = await placeToGo(visit, clientId);
  if (!place) return undefined;
  const url = new URL(place.uri);
  url.searchParams.set('iss', visit.issuer);
  if (loginHint) url.searchParams.set('login_hint', loginHint);
  return url.href;
}

/** The landing place with a name to show ("Continue to …"), without parameters. */
export async function placeToGo(visit: AppVisit, clientId: string | undefined): Promise<{ name: string; uri: string } | undefined> {
  const client = clientId ? await visit.findClient(clientId) : undefined;
  if (client?.initiateLoginUri) return { name: client.name, uri: client.initiateLoginUri };
  const landing = visit.app.settings.invitation_landing_uri;
  return landing ? { name: visit.app.name, uri: landing } : undefined;
}

/** The origin a form's answer may redirect to (CSP form-action), for a landing URI. */
export function formTargetsOf(uri: string | undefined): string[] {
  return uri ? [new URL(uri).origin] : [];
}
