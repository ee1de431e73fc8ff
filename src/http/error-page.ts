/**
 * What an error page says: a friendly text for the error code in the page's language (never only the developer
 * text of a library), the technical description folded away for whoever needs it, and a way back: the page the
 * browser came from (its origin only: the application), and the brand's help link (views/error.ejs).
 */
import type { Context } from 'koa';
import { isKey } from '../i18n/text.js';

/** Codes with their own text in `common:error.codes`. */
export const FRIENDLY_ERRORS: ReadonlySet<string> = new Set([
  'not_found', 'method_not_allowed', 'interaction_expired', 'forbidden', 'link_invalid', 'invitation_invalid', 'too_many_requests',
  'temporarily_unavailable', 'server_error', 'invalid_request', 'invalid_redirect_uri', 'invalid_client', 'unauthorized_client',
  'access_denied', 'login_required', 'session_not_found', 'payload_too_large', 'unsupported_media_type',
]);

export interface ErrorPage {
  title: string;
  error: string;
  /** A catalogue key (translated by renderPage). */
  description: string;
  /** The code's own description (for developers), when it is not already the text shown. */
  details?: string;
  /** Where the person came from, as an origin, for "Go back". */
  back?: string;
}

export function errorPage(ctx: Pick<Context, 'get'>, status: number, error: string, description: unknown): ErrorPage {
  const title = status === 503 ? 'common:error.title.unavailable' : status === 404 ? 'common:error.title.not_found' : 'common:error.title.generic';
  const ownText = isKey(description) ? description : undefined;
  const friendly = ownText ?? (FRIENDLY_ERRORS.has(error) ? `common:error.codes.${error}` : 'common:error.generic');
  const details = !ownText && typeof description === 'string' && description ? description : undefined;
  return { title, error, description: friendly, details, back: cameFrom(ctx) };
}

/** The Referer's origin when it is an http(s) URL (RFC 9110 §10.1.3); a page may link back to it. */
function cameFrom(ctx: Pick<Context, 'get'>): string | undefined {
  const referer = ctx.get?.('referer');
  if (!referer || referer.length > 2000 || !URL.canParse(referer)) return undefined;
  const url = new URL(referer);
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
}

