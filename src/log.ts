import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Structured JSON logs on stdout. Secrets never go into log fields (authorization headers are redacted). */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'portcullis' },
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.client_secret'],
  });
}
