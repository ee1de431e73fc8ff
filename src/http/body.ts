import type { Context } from 'koa';
import type { z } from 'zod';
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError, fieldIssues } from '../errors.js';

/** Limits for bodies we parse ourselves (the provider parses its own endpoints). */
export const FORM_LIMIT_BYTES = 16 * 1024;
export const JSON_LIMIT_BYTES = 64 * 1024;
/** Bodies that may carry uploaded brand images (a 100 KB logo and a favicon as base64 data: URIs). */
export const BRANDING_JSON_LIMIT_BYTES = 400 * 1024;

/**
 * Reads the raw body up to `limit` bytes. Past the limit the rest is drained (not buffered) so the connection stays
 * usable for keep-alive. Events rather than `for await`: leaving a `for await` early destroys the request, which
 * leaves the keep-alive socket half-closed and the client's next request on it hanging until it is reset.
 */
function readRaw(ctx: Context, limit: number): Promise<string> {
  const req = ctx.req;
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) {
    req.resume(); // drain without buffering
    return Promise.reject(new PayloadTooLargeError());
  }
  if (req.readableEnded) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      cleanup();
      req.resume(); // drain the rest without buffering
      reject(new PayloadTooLargeError());
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new InvalidRequestError('The request body ended early.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Reads an `application/x-www-form-urlencoded` body into a flat record of strings. A repeated field is rejected
 * rather than guessed at, so nothing but a single string per field ever reaches the schema.
 */
export async function readForm(ctx: Context): Promise<Record<string, string>> {
  if (!ctx.request.is('application/x-www-form-urlencoded')) throw new UnsupportedMediaTypeError('a form (application/x-www-form-urlencoded)');
  const params = new URLSearchParams(await readRaw(ctx, FORM_LIMIT_BYTES));
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of params) {
    if (key in out) throw new InvalidRequestError(`The field "${key}" was sent more than once.`, [{ path: key, message: 'must be sent once' }]);
    out[key] = value;
  }
  return out;
}

/** Reads a JSON body (an object) for the Admin API. */
export async function readJson(ctx: Context, limit = JSON_LIMIT_BYTES): Promise<unknown> {
  if (!ctx.request.is('application/json')) throw new UnsupportedMediaTypeError('JSON (application/json)');
  const raw = await readRaw(ctx, limit);
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON.');
  }
}

/**
 * Validates input with a zod schema; failures become a 400 with field-level issues. An unknown field (strict objects)
 * is reported at its own path (`settings.extra`) rather than at its parent object.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.output<S> {
  // reportInput: the issue's input type lets pages say "expected a number, received text" in their own language.
  const parsed = schema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap((issue) => (issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...issue.path, key], message: 'is not a known field' }))
      : [issue]));
    throw new InvalidRequestError(`The ${what} is invalid.`, fieldIssues({ issues }));
  }
  return parsed.data;
}
