import type { Context } from 'koa';
import type { z } from 'zod';
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError, fieldIssues } from './errors.js';

/** Limits for bodies we parse ourselves (the provider parses its own endpoints). */
export const FORM_LIMIT_BYTES = 16 * 1024;
export const JSON_LIMIT_BYTES = 64 * 1024;

async function readRaw(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) {
    ctx.req.resume(); // drain without buffering
    throw new PayloadTooLargeError();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.req.resume();
      throw new PayloadTooLargeError();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
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
export async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.request.is('application/json')) throw new UnsupportedMediaTypeError('JSON (application/json)');
  const raw = await readRaw(ctx, JSON_LIMIT_BYTES);
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON.');
  }
}

/** Validates input with a zod schema; failures become a 400 with field-level issues. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(`The ${what} is invalid.`, fieldIssues(parsed.error));
  return parsed.data;
}
