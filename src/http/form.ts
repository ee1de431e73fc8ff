/**
 * Route steps for HTML forms, in the order a route lists them: `form(schema)` reads and validates the body, `csrf`
 * (in the flow's own module) checks its token, then the route's one call into the sign-in core.
 */
import type { Context, Next } from 'koa';
import type { z } from 'zod';
import { readForm } from './body.js';

export interface FormState<T> {
  /** Every field as sent (a flat record of single strings), for the CSRF check and for typing values back. */
  raw: Record<string, string>;
  /** The validated input, or undefined when the form did not match the schema. */
  input?: T;
}

/** Reads an urlencoded body and validates it with `schema`; the result waits in `ctx.state.form`. */
export function form<S extends z.ZodType>(schema: S) {
  return async function readAndValidate(ctx: Context, next: Next) {
    const raw = await readForm(ctx);
    const parsed = schema.safeParse(raw);
    ctx.state.form = { raw, input: parsed.success ? parsed.data : undefined } satisfies FormState<z.output<S>>;
    await next();
  };
}

/** The form read by {@link form}. */
export function formOf<T>(ctx: Context): FormState<T> {
  return ctx.state.form as FormState<T>;
}
