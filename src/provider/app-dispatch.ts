import type { Context, Middleware, Next } from 'koa';
import type Router from '@koa/router';

/**
 * Sends each request down one branch, chosen by one prefix test on the path, instead of matching every router in
 * turn: requests below `/apps/` go to the app side (the app pages, then the app's provider), everything else to the
 * site side (health, assets, metrics, Admin API). The site's routers never see an app request and the other way
 * round; a branch that answers nothing falls through to what comes after this middleware (Koa's 404).
 */
export function dispatchByPrefix(prefix: string, matching: Middleware, other: Middleware): Middleware {
  return (ctx: Context, next: Next) => (ctx.path.startsWith(prefix) ? matching(ctx, next) : other(ctx, next));
}

/** Router and plain middleware alike (Koa's `use` takes both; their context types differ only in router fields). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMiddleware = Middleware<any, any>;

/** Runs middleware in order, as `koa.use` would (each one's `next` is the following one). */
export function chain(middleware: AnyMiddleware[]): Middleware {
  return (ctx: Context, next: Next) => {
    const step = (i: number): Promise<void> => (i === middleware.length ? next() : Promise.resolve(middleware[i](ctx, () => step(i + 1))));
    return step(0);
  };
}

/** `/apps/{slug}/{segment}…`: the first path segment below the app. */
const SEGMENT = /^\/apps\/[^/]+\/([^/]+)/;

/**
 * The app side: `pages` (Portcullis's own pages below `/apps/{slug}`) only for paths whose first segment below the
 * app is one the pages' routers declare (read from their routes, so a new page route is dispatched without a list to
 * keep), then `provider`. Token, discovery, JWKS and the provider's other endpoints go to the provider directly.
 */
export function appSide(routers: Router[], pages: Middleware, provider: Middleware): Middleware {
  const segments = new Set<string>();
  // A route whose first segment below the app is not a literal (a parameter, a pattern) could match anything:
  // then every app request goes through the pages first, as with plain `koa.use` in order.
  let everyPath = false;
  for (const router of routers) {
    for (const layer of router.stack) {
      const segment = typeof layer.path === 'string' ? /^\/apps\/:slug\/([A-Za-z0-9_.~-]+)(?:\/|$)/.exec(layer.path)?.[1] : undefined;
      if (segment) segments.add(segment);
      else everyPath = true;
    }
  }
  const withPages = chain([pages, provider]);
  return (ctx: Context, next: Next) => {
    const segment = SEGMENT.exec(ctx.path)?.[1];
    return everyPath || (segment !== undefined && segments.has(segment)) ? withPages(ctx, next) : provider(ctx, next);
  };
}
