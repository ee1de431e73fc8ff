/**
 * Errors shaped like the protocol: `status`, a stable `error` code, `error_description` and `expose`.
 * They import nothing, so every layer may throw them (domain, storage, routes). They are rendered in one place
 * (`http/error-handler.ts`), and because they carry the same fields as oidc-provider's own errors, the provider renders them correctly too when a
 * storage adapter throws one inside a protocol endpoint.
 */
export interface FieldIssue {
  path: string;
  /** In English: the Admin API answers with it. */
  message: string;
  /**
   * For pages in other languages (the console): the message's template (`no tenant "{{tenant}}"`) and its values,
   * or the zod issue it came from (its input replaced by a value of the same type). Never serialized.
   */
  template?: string;
  values?: Record<string, string>;
  zod?: unknown;
}

/** A field issue whose message has values in it: the English message, and the template for other languages. */
export function templatedIssue(path: string, template: string, values: Record<string, string>): FieldIssue {
  return { path, message: template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => values[name] ?? ''), template, values };
}

export class PortcullisError extends Error {
  /** HTTP status. `statusCode` mirrors it because oidc-provider's error handler reads that name. */
  readonly status: number;
  readonly statusCode: number;
  /** Stable machine-readable code, e.g. `invalid_request`, `not_found`. */
  readonly error: string;
  readonly error_description: string;
  /** Safe to show to the caller. Errors that are not exposed are reported as `server_error`. */
  readonly expose: boolean;
  /** oidc-provider must not redirect these to the relying party: the person sees our page instead. */
  readonly allow_redirect = false;
  readonly fields?: FieldIssue[];

  constructor(status: number, error: string, description: string, options?: { fields?: FieldIssue[]; cause?: unknown }) {
    // oidc-provider's err_out reads `message` as the error code, so the message is the code.
    super(error, { cause: options?.cause });
    this.name = new.target.name;
    this.status = status;
    this.statusCode = status;
    this.error = error;
    this.error_description = description;
    this.expose = status < 500 || status === 503;
    this.fields = options?.fields;
  }

  toJSON(): Record<string, unknown> {
    return {
      error: this.expose ? this.error : 'server_error',
      error_description: this.expose ? this.error_description : 'An unexpected error occurred.',
      ...(this.fields ? { fields: this.fields.map(({ path, message }) => ({ path, message })) } : {}),
    };
  }
}

export class InvalidRequestError extends PortcullisError {
  constructor(description: string, fields?: FieldIssue[]) {
    super(400, 'invalid_request', description, { fields });
  }
}

export class UnauthorizedError extends PortcullisError {
  constructor(description = 'A valid bearer token is required.') {
    super(401, 'unauthorized', description);
  }
}

export class ForbiddenError extends PortcullisError {
  constructor(description: string) {
    super(403, 'forbidden', description);
  }
}

export class NotFoundError extends PortcullisError {
  constructor(description: string) {
    super(404, 'not_found', description);
  }
}

export class ConflictError extends PortcullisError {
  constructor(description: string) {
    super(409, 'conflict', description);
  }
}

export class PayloadTooLargeError extends PortcullisError {
  constructor() {
    super(413, 'payload_too_large', 'The request body is too large.');
  }
}

export class UnsupportedMediaTypeError extends PortcullisError {
  constructor(expected: string) {
    super(415, 'unsupported_media_type', `The request body must be ${expected}.`);
  }
}

export class TooManyRequestsError extends PortcullisError {
  constructor(readonly retryAfterSeconds: number, description = 'Too many attempts. Please wait and try again.') {
    super(429, 'too_many_requests', description);
  }
}

/**
 * A dependency (MongoDB, Redis, SMTP) is unreachable. `temporarily_unavailable` is the RFC 6749 §4.1.2.1 code, so
 * protocol endpoints answer 503 with it and pages say the service is briefly unavailable.
 */
export class ServiceUnavailableError extends PortcullisError {
  constructor(readonly dependency: string, cause?: unknown) {
    super(503, 'temporarily_unavailable', 'The service is temporarily unavailable. Please try again shortly.', { cause });
  }
}

/** Turns a zod error into field-level issues (`path` is dotted). */
export function fieldIssues(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; input?: unknown }> }): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message, ...('input' in i ? { zod: { ...i, input: sameType(i.input) } } : {}) }));
}

/**
 * A stand-in of the same type as a refused input: zod's messages in other languages name the type received, and a
 * refused value (a password, a secret) is not kept in the error.
 */
function sameType(input: unknown): unknown {
  if (Array.isArray(input)) return [];
  switch (typeof input) {
    case 'string': return '';
    case 'number': return Number.isNaN(input) ? Number.NaN : 0;
    case 'bigint': return 0n;
    case 'boolean': return false;
    case 'object': return input === null ? null : input instanceof Date ? new Date(0) : {};
    default: return undefined;
  }
}
