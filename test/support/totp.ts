/** TOTP codes computed in the test, as an authenticator app would (otpauth), from the secret shown on the page. */
import * as OTPAuth from 'otpauth';
import type { Page } from './browser.js';

/** The base32 secret printed on the enrolment page. */
export function secretOn(page: Page): string {
  const secret = /<code id="totp-secret">([A-Z2-7]+)<\/code>/.exec(page.html)?.[1];
  if (!secret) throw new Error(`no TOTP secret on ${page.url}:\n${page.html.slice(0, 1500)}`);
  return secret;
}

/**
 * An authenticator app for one secret that never hands out a code for a time step it handed out before (the server
 * refuses replays), using the ±1 step window; waits for the next step when all three were used.
 */
export class Authenticator {
  private readonly used = new Set<number>();
  private readonly totp: OTPAuth.TOTP;

  constructor(secret: string) {
    this.totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  }

  /** The code of a time step not used yet (now, then the next, then the previous one). */
  async code(): Promise<string> {
    for (;;) {
      const now = this.totp.counter();
      // Prefer the current step, then the next (valid for longer), then the previous.
      for (const step of [now, now + 1, now - 1]) {
        if (!this.used.has(step)) {
          this.used.add(step);
          return this.totp.generate({ timestamp: step * 30_000 + 1000 });
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** The code of a step already handed out (to try a replay). */
  replay(): string {
    const step = Math.max(...this.used);
    return this.totp.generate({ timestamp: step * 30_000 + 1000 });
  }
}

/** The recovery codes listed on the page. */
export function recoveryCodesOn(page: Page): string[] {
  return [...page.html.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1]);
}
