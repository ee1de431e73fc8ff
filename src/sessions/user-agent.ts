/**
 * A short, human description of a browser from its User-Agent header ("Firefox on Linux"), for the session list.
 * Deliberately small: the UA string is only a hint the person recognises their device by, never a security signal.
 */
const BROWSERS: Array<[RegExp, string]> = [
  [/Edg(?:e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/curl\//, 'curl'],
  [/node|undici/i, 'Node.js'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/Windows/, 'Windows'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
];

export interface BrowserDescription {
  browser?: string;
  os?: string;
}

export function describeUserAgent(userAgent: string | undefined): BrowserDescription {
  if (!userAgent) return {};
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const os = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  return { ...(browser ? { browser } : {}), ...(os ? { os } : {}) };
}

/** `amr` values (RFC 8176) → the sign-in method shown to people and APIs. */
export function methodOfAmr(amr: readonly string[] | undefined): string {
  const values = new Set(amr ?? []);
  if (values.has('partner')) return 'partner_link';
  if (values.has('pwd')) return 'password';
  if (values.has('hwk') || values.has('swk')) return 'passkey';
  if (values.has('otp') && values.has('sms')) return 'sms_code';
  if (values.has('otp') && values.has('email')) return 'email_code';
  if (values.has('email')) return 'magic_link';
  return values.size ? [...values].join(' ') : 'unknown';
}
