/**
 * The RP-Initiated Logout page (OIDC RP-Initiated Logout 1.0 §2), rendered by oidc-provider's `logoutSource`.
 *
 * CSP: browsers apply `form-action` to the redirects that follow a form submission, and the confirmation form's
 * answer is a 303 to the client's `post_logout_redirect_uri`. So the page allows, besides 'self', the origins of
 * the post-logout redirect URIs registered for the client of the request (the library accepts only a registered
 * one, and without a known client it drops the parameter and lands on its own `/session/end/success`, 'self').
 *
 * One-click sign-out: with the app setting `logout_confirmation: "skip_with_id_token_hint"` and an `id_token_hint`
 * that belongs to the current session, the confirmation is skipped (the spec lets the OP decide when to ask): the
 * page posts the library's own confirmation form at once with one inline script allowed by its hash (no other
 * script can run), and a button for browsers without JavaScript. The library's XSRF check and logout logic apply
 * unchanged.
 */
import { createHash } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AppRecord } from '../storage/ports.js';
import { renderPage } from '../http/render-page.js';

const AUTO_SUBMIT = "document.getElementById('op.logoutForm').submit();";
const AUTO_SUBMIT_HASH = `'sha256-${createHash('sha256').update(AUTO_SUBMIT).digest('base64')}'`;

/** Origins the confirmation may redirect to: those of the client's registered post-logout redirect URIs. */
export function postLogoutOrigins(ctx: KoaContextWithOIDC): string[] {
  const uris = (ctx.oidc.client?.metadata().post_logout_redirect_uris ?? []) as string[];
  return uris.flatMap((uri) => {
    try {
      return [new URL(uri).origin];
    } catch {
      return [];
    }
  }).filter((origin) => origin !== 'null');
}

/**
 * True when `id_token_hint` was issued to this client for the browser's current sign-in: the library has already
 * verified its signature, issuer and audience; it must also name the signed-in account, the session must hold an
 * authorization of that client, and it must not predate the sign-in (a token of an earlier session is not enough).
 */
export function hintMatchesSession(ctx: KoaContextWithOIDC): boolean {
  const { session, client, entities } = ctx.oidc;
  const hint = (entities as { IdTokenHint?: { payload?: { sub?: string; iat?: number } } }).IdTokenHint?.payload;
  if (!hint || !session?.accountId || !client || !session.loginTs) return false;
  return hint.sub === session.accountId
    && session.grantIdFor(client.clientId) !== undefined
    && typeof hint.iat === 'number' && hint.iat >= session.loginTs;
}

export function renderLogoutPage(app: AppRecord, ctx: KoaContextWithOIDC, form: string): void {
  const skip = app.settings.logout_confirmation === 'skip_with_id_token_hint' && hintMatchesSession(ctx);
  const formTargets = postLogoutOrigins(ctx);
  if (!skip) return renderPage(ctx as never, 'logout', { app, form, title: 'logout:confirm.title' }, { formTargets });
  // End the whole identity session, as "Yes, sign me out" does.
  const signOutForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  renderPage(ctx as never, 'logout-auto', { app, form: signOutForm, script: AUTO_SUBMIT, title: 'logout:auto.title' }, { formTargets, scripts: [AUTO_SUBMIT_HASH] });
}
