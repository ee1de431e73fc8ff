/**
 * A minimal browser for driving the real HTML forms: a cookie jar that honours Path (so app isolation is real),
 * manual redirects, and form submission that sends the hidden fields of the form the way a browser would.
 */
interface Cookie {
  name: string;
  value: string;
  path: string;
}

export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
}

export class Browser {
  private cookies: Cookie[] = [];

  /** `headers` go with every request (e.g. X-Forwarded-For, to act as a browser elsewhere behind a trusted proxy). */
  constructor(private readonly origin: string, private readonly headers: Record<string, string> = {}) {}

  cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** A cookie the browser kept from an earlier visit. */
  addCookie(name: string, value: string, path = '/'): this {
    this.cookies = [...this.cookies.filter((c) => !(c.name === name && c.path === path)), { name, value, path }];
    return this;
  }

  cookieNames(): string[] {
    return this.cookies.map((c) => `${c.name}@${c.path}`);
  }

  private store(res: Response, url: URL): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const pathAttr = attrs.find((a) => a.toLowerCase().startsWith('path='));
      const path = pathAttr ? pathAttr.slice(5) : url.pathname.replace(/\/[^/]*$/, '') || '/';
      const expired = attrs.some((a) => /^expires=/i.test(a) && new Date(a.slice(8)).getTime() < Date.now()) || attrs.some((a) => /^max-age=0$/i.test(a));
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
      if (!expired && value !== '') this.cookies.push({ name, value, path });
    }
  }

  /** One request, no redirect following. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, this.origin);
    const headers = new Headers({ ...this.headers, ...Object.fromEntries(new Headers(init.headers)) });
    const cookie = this.cookieHeader(target);
    if (cookie) headers.set('cookie', cookie);
    if (!headers.has('accept')) headers.set('accept', 'text/html');
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.store(res, target);
    return res;
  }

  /**
   * Follows redirects from `url` until a page answers, or until a Location starts with `stopAt` (the relying
   * party's redirect URI), which is returned without being fetched.
   */
  async follow(url: string, stopAt?: string, init?: RequestInit): Promise<Page> {
    let current = new URL(url, this.origin).href;
    let res = await this.request(current, init);
    for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
      if (hops > 15) throw new Error('too many redirects');
      const location = new URL(res.headers.get('location')!, current).href;
      await res.arrayBuffer();
      if (stopAt && location.startsWith(stopAt)) return { url: location, status: res.status, html: '', headers: res.headers };
      current = location;
      res = await this.request(current);
    }
    return { url: current, status: res.status, html: await res.text(), headers: res.headers };
  }

  /**
   * Submits the form whose action contains `action` (or the first form), with its hidden inputs plus `fields`.
   * `button` is the submit button pressed (name/value), and may carry its own `formaction`.
   */
  async submit(page: Page, fields: Record<string, string>, options: { action?: string; button?: { name: string; value: string }; formaction?: string; stopAt?: string } = {}): Promise<Page> {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = options.action ? forms.find((f) => decode(f[1]).includes(options.action!)) : forms[0];
    if (!form) throw new Error(`no form ${options.action ?? ''} on ${page.url}:\n${page.html.slice(0, 2000)}`);
    const body = new URLSearchParams();
    for (const input of form[2].matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
      if (name) body.set(name, decode(value));
    }
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    if (options.button) body.set(options.button.name, options.button.value);
    const action = new URL(decode(options.formaction ?? form[1]), page.url).href;
    const res = await this.request(action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    if (res.status < 300 || res.status >= 400) return { url: action, status: res.status, html: await res.text(), headers: res.headers };
    const location = new URL(res.headers.get('location')!, action).href;
    await res.arrayBuffer();
    if (options.stopAt && location.startsWith(options.stopAt)) return { url: location, status: res.status, html: '', headers: res.headers };
    return this.follow(location, options.stopAt);
  }
}

export function decode(html: string): string {
  return html.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCharCode(parseInt(n, 16)))
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The labels of the `choice` buttons on a selection page. */
export function choices(page: Page): Array<{ value: string; label: string }> {
  return [...page.html.matchAll(/<button type="submit" name="choice" value="([^"]*)"[^>]*>([^<]*)/g)].map((m) => ({ value: decode(m[1]), label: decode(m[2]).trim() }));
}
