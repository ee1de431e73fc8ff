/**
 * A sign-in method: one way a person proves who they are. Each method is one module in `methods/` that says what it
 * needs from the identifier step, how it proves possession or knowledge, which `amr` values (RFC 8176) it yields,
 * whether it counts as a second factor, and which pages it contributes; its proof then goes through the shared
 * stages of `sequence.ts` (account → second factor → tenant → consent → finish).
 */
import type { AppRecord } from '../storage/ports.js';
import type { LoginMethod } from '../apps/settings.js';

export interface SignInMethod {
  /** Stable id; for methods the app switches on and off, the value in its `login_methods` setting. */
  readonly id: LoginMethod | 'registration' | 'invitation' | 'password_reset' | 'partner_link' | 'upstream';
  /** What the identifier step must give the method. */
  readonly identifier: 'email' | 'phone' | 'email_or_phone' | 'none';
  /** RFC 8176 values a proof by this method adds to the ID token's `amr`. */
  readonly amr: readonly string[];
  /** True when the method may serve as the second factor of a sign-in (NIST SP 800-63B §4.2 multi-factor). */
  readonly secondFactor: boolean;
  /** Whether this app offers the method. */
  enabled(app: AppRecord): boolean;
  /** The views (`views/{name}.ejs`) the method's pages render. */
  readonly views: readonly string[];
}
