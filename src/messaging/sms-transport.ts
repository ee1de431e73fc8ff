/**
 * SMS through any provider with an HTTP API: one POST whose JSON body is written by the operator as a template
 * (`SMS_HTTP_BODY`), so Portcullis needs no provider-specific code.
 */

export interface SmsMessage {
  /** E.164 phone number. */
  to: string;
  text: string;
}

export interface SmsTransport {
  /** Resolves once the provider answered 2xx; rejects otherwise (the messenger retries). */
  send(message: SmsMessage): Promise<void>;
}

export interface HttpSmsOptions {
  url: string;
  /** Sent verbatim as the `Authorization` header (e.g. `Basic …`, `Bearer …`). */
  authorization?: string;
  /** JSON body template; `{{to}}`, `{{text}}`, `{{from}}` are replaced by JSON-escaped values. */
  bodyTemplate: string;
  from?: string;
  timeoutMs?: number;
  /** Injected in tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

const PLACEHOLDER = /\{\{(to|text|from)\}\}/g;

/**
 * Fills the body template. Values are JSON-escaped (quotes, backslashes, newlines, control characters), so a
 * message can never break out of its string or add fields; all placeholders are replaced in one pass, so a value
 * that itself contains `{{to}}` is never substituted again.
 */
export function fillBodyTemplate(template: string, values: { to: string; text: string; from?: string }): string {
  return template.replace(PLACEHOLDER, (_, name: 'to' | 'text' | 'from') => JSON.stringify(values[name] ?? '').slice(1, -1));
}

export class HttpSmsTransport implements SmsTransport {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpSmsOptions) {
    this.fetch = options.fetch ?? fetch;
    // Fail at start-up rather than on the first SMS: the template must give valid JSON for any value.
    try {
      JSON.parse(fillBodyTemplate(options.bodyTemplate, { to: '+10000000000', text: 'te"st\n', from: 'x' }));
    } catch {
      throw new Error('SMS_HTTP_BODY is not a valid JSON template (placeholders must sit inside JSON strings).');
    }
  }

  async send(message: SmsMessage): Promise<void> {
    const body = fillBodyTemplate(this.options.bodyTemplate, { ...message, from: this.options.from });
    const res = await this.fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.options.authorization ? { authorization: this.options.authorization } : {}),
      },
      body,
      // A redirect could carry the credentials elsewhere: providers answer directly or it is an error.
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    // Read the body so the connection is released; it is not logged (it may echo the message).
    await res.arrayBuffer().catch(() => undefined);
    // The URL is not in the error: a provider key sometimes sits in its query string.
    if (!res.ok) throw new Error(`SMS provider answered HTTP ${res.status}`);
  }
}
