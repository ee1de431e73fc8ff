/**
 * The one builder of ephemeral-store keys. Every short-lived record (codes, links, hand-offs, counters) lives under
 * `app:{appId}:…`, so an app's records never collide with another app's, and deleting an app's keys by prefix is
 * possible. Subjects that are personal data (emails, phone numbers) are hashed by the caller before they get here.
 */
export type ShortLivedKind =
  /** A one-time code of one purpose in one interaction, its wrong-try counter. */
  | `${'otp' | 'register' | 'mfa-email'}` | `${'otp' | 'register' | 'mfa-email'}-tries`
  /** The resend wait of codes and links, per identifier. */
  | 'send-wait'
  /** A sign-in link by token hash; the newest link of an interaction. */
  | 'link' | 'link-latest'
  | 'handoff'
  /** A password-reset link by token hash; when an account's password was last reset by link. */
  | 'reset' | 'reset-at'
  | 'invitation-flash' | 'invitation-accept'
  /** A partner token's `jti`, kept until the token expires (RFC 7519 §4.1.7 replay prevention). */
  | 'partner-jti'
  /** The `state` of an authorization request sent to an upstream identity provider → its interaction. */
  | 'upstream-state'
  /** Second factors: a TOTP secret awaiting its first code; a TOTP step already used; wrong codes per account. */
  | 'totp-enrol' | 'totp-used' | 'mfa-tries'
  /** A WebAuthn challenge issued to one interaction (registration or assertion). */
  | 'webauthn-challenge'
  /** A JWT access token's `jti` with its grant, until the token expires (introspection and revocation of JWTs). */
  | 'jwt-at'
  /** Admin console: an operator's session (by token hash), a sign-in in progress (by state), a once-shown notice. */
  | 'console-session' | 'console-flow' | 'console-flash'
  /** Where and how a browser session was signed in (IP, user agent), by session uid (the account's session list). */
  | 'session-info'
  /** A support PIN of an account, its wrong-try counter per hour (support-pin/support-pin-service.ts). */
  | 'support-pin' | 'support-pin-tries'
  /** The account center: a signed-in browser, a sign-in in progress, an email or phone change awaiting its code. */
  | 'account-center' | 'account-center-login' | 'contact-change'
  /** Rate-limit counters: `rl:{bucket}`. */
  | `rl:${string}`;

export function shortLivedKey(appId: string, kind: ShortLivedKind, id: string): string {
  return `app:${appId}:${kind}:${id}`;
}
