import type { Context } from 'koa';

/**
 * Strict headers on every response (OWASP ASVS V14.4). Our pages load nothing from third parties and run no
 * script, so the CSP allows only our own stylesheet. `form-action` also lists the origin a page's form may end up
 * redirecting to (the relying party), because browsers apply it to the redirects that follow a form post.
 */
export function securityHeaders(publicUrl: URL) {
  const headers: ReadonlyArray<readonly [string, string]> = [
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Frame-Options', 'DENY'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()'],
    ...(publicUrl.protocol === 'https:' ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as const] : []),
    // Baseline for pages the provider writes itself (form_post, the sign-out hand-off): it adds the hash of its one
    // inline script to script-src, and those forms post to relying parties, so form-action stays open there.
    ['Content-Security-Policy', PROVIDER_CSP],
  ];
  return {
    /** Before the request is handled: straight onto the response (nothing is sent yet), ctx.set would normalise each pair anew. */
    baseline(ctx: Context): void {
      for (const [name, value] of headers) ctx.res.setHeader(name, value);
    },
    /** After it was handled: a page of ours that set no policy of its own gets the strict page policy. */
    finish(ctx: Context): void {
      // A response the provider already wrote (token, discovery, JWKS…) can take no more headers: skip the type check.
      if (!ctx.headerSent && ctx.response.is('html') && ctx.response.get('Content-Security-Policy') === PROVIDER_CSP) setPageCsp(ctx);
    },
  };
}

const PROVIDER_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * `scripts`: hash sources of the page's own inline scripts (only the one-click sign-out page has one). `brand`: the
 * hash of the brand's inline `<style>` (its colours) and the origins of its https images (src/branding/brand.ts).
 */
export function setPageCsp(ctx: Context, formTargets: string[] = [], scripts: string[] = [], brand: { styles?: string[]; images?: string[] } = {}): void {
  const formAction = ["'self'", ...new Set(formTargets)].join(' ');
  const scriptSrc = scripts.length ? `; script-src ${scripts.join(' ')}` : '';
  const styleSrc = ["'self'", ...(brand.styles ?? [])].join(' ');
  const imgSrc = ["'self'", 'data:', ...new Set(brand.images ?? [])].join(' ');
  ctx.set(
    'Content-Security-Policy',
    `default-src 'none'; style-src ${styleSrc}; img-src ${imgSrc}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'${scriptSrc}`,
  );
  ctx.set('Cache-Control', 'no-store');
}
