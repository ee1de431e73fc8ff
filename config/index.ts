/**
 * Portcullis settings: the one documented place where every environment variable is read, typed and validated.
 * `loadConfig()` fails with a {@link ConfigError} naming the variable, so bad configuration stops start-up early.
 * The README's configuration table mirrors {@link settingsSchema}.
 */
import { z } from 'zod';

const duration = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalString = z.string().trim().min(1).optional();
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Environment variable → setting. Keys are the variable names users set. */
export const settingsSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Listen address. Default: `127.0.0.1` on the embedded store (a development setup, whose dev mailbox shows
   * sign-in codes), `0.0.0.0` when MONGODB_URI or REDIS_URL is set (a deployment).
   */
  HOST: z.string().trim().min(1).optional(),
  /**
   * The dev mailbox page (`/apps/{slug}/dev/mailbox`, embedded store only) shows simulated sign-in codes and links:
   * `loopback` (default) shows it only to requests from this machine, `true` to anyone who can reach the port
   * (e.g. a container reached from its host), `false` turns it off.
   */
  DEV_MAILBOX: z.enum(['loopback', 'true', 'false']).default('loopback'),
  /** Set when a reverse proxy in front sets X-Forwarded-For (used for per-IP rate limits). */
  TRUST_PROXY: bool(false),
  /** Issuer base; app issuers are `${PUBLIC_URL}/apps/{slug}`. Links in messages are built from it, never from Host. */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  ADMIN_API_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  /** 32-byte key (base64 or hex) that encrypts client secrets at rest; generated per process for the embedded store. */
  SECRETS_KEY: optionalString,
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional(),
  REDIS_URL: z.string().regex(/^(rediss?|redis-sentinel):\/\//, 'must start with redis://, rediss:// or redis-sentinel://').optional(),
  /** Comma-separated seed nodes: the URL is treated as a Redis Cluster when set to true. */
  REDIS_CLUSTER: bool(false),
  CONNECT_TIMEOUT_MS: duration(10_000),
  MONGODB_ENSURE_INDEXES: bool(true),
  PROVIDER_POOL_SIZE: z.coerce.number().int().min(1).max(100_000).default(500),
  /** How often a process checks whether an app changed elsewhere (cross-process pool invalidation). */
  APP_VERSION_CHECK_MS: duration(2_000),
  SESSION_TTL_SECONDS: duration(12 * 3600),
  AUTH_CODE_TTL_SECONDS: duration(60),
  ACCESS_TOKEN_TTL_SECONDS: duration(3600),
  ID_TOKEN_TTL_SECONDS: duration(3600),
  REFRESH_TOKEN_TTL_SECONDS: duration(14 * 24 * 3600),
  INTERACTION_TTL_SECONDS: duration(3600),
  /** Sign-in lifetimes (see {@link Lifetimes}); the messages state the same values. */
  SIGN_IN_CODE_TTL_SECONDS: duration(10 * 60),
  RESEND_AFTER_SECONDS: duration(30),
  MAGIC_LINK_TTL_SECONDS: duration(10 * 60),
  REGISTRATION_CODE_TTL_SECONDS: duration(15 * 60),
  PASSWORD_RESET_TTL_SECONDS: duration(30 * 60),
  HANDOFF_TTL_SECONDS: duration(10 * 60),
  INVITATION_TTL_SECONDS: duration(7 * 24 * 3600),
  /**
   * Longest time any request may take before it is answered 503 `temporarily_unavailable`: a store that dies or
   * stalls mid-request never leaves a client waiting.
   */
  REQUEST_TIMEOUT_MS: duration(15_000),
  /** A partner's jwks_uri is refetched for an unknown `kid` at most this often. */
  PARTNER_JWKS_COOLDOWN_SECONDS: duration(60),
  SEED_DEMO: bool(true),
  /**
   * The first operator of the admin console (`/console`), created with the built-in `console` app at first start: on
   * the embedded store with a random password printed once, on a real store with an invitation in the outbox.
   */
  CONSOLE_ADMIN_EMAIL: z.string().trim().toLowerCase().regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address').max(254).default('admin@localhost'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT_ENABLED: bool(true),
  /** Sign-in / code attempts allowed per client IP per hour (generous: offices sit behind one NAT). */
  RATE_LIMIT_IP_PER_HOUR: z.coerce.number().int().positive().default(100),
  /** Messaging: `simulate` keeps messages in the outbox; `deliver` sends them. Default depends on the store. */
  MESSAGING_MODE: z.enum(['simulate', 'deliver']).optional(),
  OUTBOX_TTL_SECONDS: duration(7 * 24 * 3600),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  /** SMTP connections kept open and reused (up to 100 messages each); lower it for providers that allow fewer. */
  SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(50).default(5),
  MAIL_FROM: z.string().default('Portcullis <no-reply@localhost>'),
  SMS_HTTP_URL: z.url().optional(),
  SMS_HTTP_AUTH: optionalString,
  /** JSON body template; `{{to}}`, `{{text}}` and `{{from}}` are replaced (JSON-escaped). */
  SMS_HTTP_BODY: z.string().default('{"to":"{{to}}","body":"{{text}}"}'),
  SMS_FROM: optionalString,
  /**
   * Embedded store only: oidc-provider records (tokens, codes, sessions, interactions…) kept in memory at most.
   * Past it the least recently written short-lived records are evicted (an evicted access token is then invalid),
   * so sustained token traffic cannot grow the process without bound. Expired records are reclaimed regardless.
   */
  MEMORY_STORE_MAX_RECORDS: z.coerce.number().int().min(1000).default(50_000),
  /** Audit events are kept this many days (a TTL index removes them on MongoDB). */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
  /** Webhooks: the first retry's delay; later ones follow 6×, 24×, 120×… of it (5 s, 30 s, 2 min, 10 min… by default). */
  WEBHOOK_RETRY_BASE_MS: duration(5_000),
  /** How often the delivery worker looks for due deliveries (new events are sent at once regardless). */
  WEBHOOK_POLL_MS: duration(1_000),
  /** Time limit of one delivery attempt. */
  WEBHOOK_TIMEOUT_MS: duration(10_000),
  /** An endpoint failing this long is disabled, and its undelivered events are marked failed. */
  WEBHOOK_DISABLE_AFTER_MS: duration(24 * 3600_000),
  /** Allow webhook URLs that resolve to loopback, link-local or private addresses (SSRF protection off). */
  WEBHOOK_ALLOW_PRIVATE: bool(false),
  /** Run the webhook delivery worker in this process (turn off in processes that should only serve requests). */
  WEBHOOK_WORKER_ENABLED: bool(true),
  /** When set, `GET /metrics` needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** When set, metrics are served on this port only (not on PORT). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
});

export type Settings = z.infer<typeof settingsSchema>;

/**
 * How long each short-lived sign-in secret works, in seconds: the one home of these numbers. Sign-in methods enforce
 * them and the message catalogue states them ("valid for 10 minutes"), so the two can never disagree.
 */
export interface Lifetimes {
  /** A one-time code sent by email or SMS (NIST SP 800-63B §5.1.3.2: short-lived out-of-band secrets). */
  signInCode: number;
  /** The wait before another code or link may be sent to the same identifier. */
  resendAfter: number;
  magicLink: number;
  /** The code that confirms the email address of a registration. */
  registrationCode: number;
  passwordReset: number;
  /** The browser cookie that carries a proven sign-in (invitation, link on another device) to the next interaction. */
  handoff: number;
  invitation: number;
}

export const DEFAULT_LIFETIMES: Lifetimes = lifetimesOf(settingsSchema.parse({}));

function lifetimesOf(s: Settings): Lifetimes {
  return {
    signInCode: s.SIGN_IN_CODE_TTL_SECONDS,
    resendAfter: s.RESEND_AFTER_SECONDS,
    magicLink: s.MAGIC_LINK_TTL_SECONDS,
    registrationCode: s.REGISTRATION_CODE_TTL_SECONDS,
    passwordReset: s.PASSWORD_RESET_TTL_SECONDS,
    handoff: s.HANDOFF_TTL_SECONDS,
    invitation: s.INVITATION_TTL_SECONDS,
  };
}

export interface Config extends Omit<Settings, 'HOST'> {
  /** Listen address, with the default for the chosen store applied. */
  HOST: string;
  publicUrl: URL;
  lifetimes: Lifetimes;
  /** Store chosen from MONGODB_URI / REDIS_URL: what holds durable and short-lived state. */
  storage: { durable: 'memory' | 'mongo'; ephemeral: 'memory' | 'redis' | 'mongo' };
}

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input = Object.fromEntries(
    Object.keys(settingsSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue.path[0]), issue.message);
  }
  const s = parsed.data;
  const publicUrl = new URL(s.PUBLIC_URL ?? `http://localhost:${s.PORT}`);
  if (publicUrl.search || publicUrl.hash) throw new ConfigError('PUBLIC_URL', 'must not have a query or fragment');
  if (publicUrl.pathname !== '/') throw new ConfigError('PUBLIC_URL', 'must be an origin (scheme, host and port) without a path');
  if (s.SECRETS_KEY !== undefined && decodeKey(s.SECRETS_KEY) === undefined) {
    throw new ConfigError('SECRETS_KEY', 'must be 32 bytes, base64 or hex encoded');
  }
  if (s.MESSAGING_MODE === 'deliver' && !s.SMTP_URL && !s.SMS_HTTP_URL) {
    throw new ConfigError('MESSAGING_MODE', 'is deliver but neither SMTP_URL nor SMS_HTTP_URL is set');
  }
  const durable = s.MONGODB_URI ? 'mongo' : 'memory';
  const ephemeral = s.REDIS_URL ? 'redis' : s.MONGODB_URI ? 'mongo' : 'memory';
  // Only a deployment listens on every interface by default; the embedded store is for trying things out locally.
  const HOST = s.HOST ?? (durable === 'memory' && ephemeral === 'memory' ? '127.0.0.1' : '0.0.0.0');
  return { ...s, HOST, publicUrl, lifetimes: lifetimesOf(s), storage: { durable, ephemeral } };
}

/** Decodes a 32-byte key given as base64, base64url or hex. */
export function decodeKey(value: string): Buffer | undefined {
  const hex = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : undefined;
  const key = hex ?? Buffer.from(value, 'base64');
  return key.length === 32 ? key : undefined;
}

/** Base URL of an app's issuer. */
export function issuerFor(config: Pick<Config, 'publicUrl'>, slug: string): string {
  return `${config.publicUrl.href.replace(/\/$/, '')}/apps/${slug}`;
}
