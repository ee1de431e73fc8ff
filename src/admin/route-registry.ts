import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { readJson, validate } from '../http/body.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: Method;
  /** Koa-style path (`/apps/:slug`); shown as `/apps/{slug}` in OpenAPI. */
  path: string;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  /** Status of a successful answer (201 on create, 204 on delete). */
  status?: number;
  /** Largest JSON body in bytes, when more than the default (bodies with uploaded brand images). */
  bodyLimit?: number;
  handler: (input: {
    ctx: Context;
    params: Record<string, string>;
    body: B extends z.ZodType ? z.output<B> : undefined;
    query: Q extends z.ZodType ? z.output<Q> : undefined;
  }) => Promise<unknown>;
}

/**
 * Registers Admin API routes and records them for the OpenAPI 3.1 document: each route declares its body and
 * query schemas once, and both validation and documentation come from them.
 */
/** Throws (403) when the caller may not use the route; runs before any input is read. */
export type Authorize = (ctx: Context, route: { tag: string; method: Method; path: string; params: Record<string, string> }) => void;

/**
 * An API served elsewhere than `/admin/v1` (the account API below each app) that is documented in the same
 * document: its path items carry their own `servers` and security, under their own tag.
 */
export interface ExternalApiDoc {
  /** OpenAPI paths (`/apps/{slug}/api/account/profile`) → path item. */
  paths: Record<string, Record<string, unknown>>;
  tag: { name: string; description: string };
  securitySchemes: Record<string, unknown>;
}

export class RouteRegistry {
  readonly router: Router;
  private readonly specs: Array<RouteSpec<z.ZodType | undefined, z.ZodType | undefined>> = [];
  private readonly external: Array<(serverUrl: string) => ExternalApiDoc> = [];

  /** Adds an API served outside the Admin API to the document (built when the document is asked for). */
  document(external: (origin: string) => ExternalApiDoc): void {
    this.external.push(external);
  }

  constructor(readonly prefix: string, private readonly authorize?: Authorize) {
    this.router = new Router({ prefix });
  }

  add<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(spec: RouteSpec<B, Q>): void {
    this.specs.push(spec as never);
    this.router[spec.method](spec.path, async (ctx) => {
      this.authorize?.(ctx, { tag: spec.tag, method: spec.method, path: spec.path, params: ctx.params as Record<string, string> });
      const body = spec.body ? validate(spec.body, await readJson(ctx, spec.bodyLimit)) : undefined;
      const query = spec.query ? validate(spec.query, { ...ctx.query }, 'query string') : undefined;
      const result = await spec.handler({ ctx, params: ctx.params as Record<string, string>, body: body as never, query: query as never });
      ctx.status = spec.status ?? 200;
      if (ctx.status !== 204) ctx.body = result;
    });
  }

  openApi(info: { title: string; version: string; serverUrl: string; origin?: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const spec of this.specs) {
      const openPath = spec.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const parameters = [
        ...[...spec.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
        ...(spec.query ? queryParameters(spec.query) : []),
      ];
      const status = String(spec.status ?? 200);
      (paths[openPath] ??= {})[spec.method] = {
        summary: spec.summary,
        tags: [spec.tag],
        ...(parameters.length ? { parameters } : {}),
        ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(spec.body, { io: 'input' }) } } } } : {}),
        responses: {
          [status]: { description: status === '204' ? 'No content' : 'Success' },
          ...(spec.body || spec.query ? { 400: { $ref: '#/components/responses/BadRequest' } } : {}),
          401: { $ref: '#/components/responses/Unauthorized' },
          403: { $ref: '#/components/responses/Forbidden' },
          ...(spec.path.includes(':') ? { 404: { $ref: '#/components/responses/NotFound' } } : {}),
          ...(spec.method === 'post' || spec.method === 'patch' ? { 409: { $ref: '#/components/responses/Conflict' } } : {}),
        },
      };
    }
    const error = { $ref: '#/components/schemas/Error' };
    const response = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
    const externals = this.external.map((build) => build(info.origin ?? new URL(info.serverUrl).origin));
    for (const external of externals) Object.assign(paths, external.paths);
    return {
      openapi: '3.1.0',
      info: { title: info.title, version: info.version },
      servers: [{ url: info.serverUrl }],
      security: [{ bearer: [] }],
      ...(externals.length ? { tags: externals.map((e) => e.tag) } : {}),
      paths,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, ...Object.assign({}, ...externals.map((e) => e.securitySchemes)) },
        schemas: {
          Error: {
            type: 'object',
            required: ['error', 'error_description'],
            properties: {
              error: { type: 'string' },
              error_description: { type: 'string' },
              fields: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
            },
          },
        },
        responses: {
          BadRequest: response('Invalid input; `fields` names each invalid field'),
          Unauthorized: response('Missing or wrong API key'),
          Forbidden: response('The API key lacks the scope, or may not use this app'),
          NotFound: response('No such resource'),
          Conflict: response('Conflicts with an existing resource'),
        },
      },
    };
  }
}

function queryParameters(schema: z.ZodType): Array<Record<string, unknown>> {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: json.required?.includes(name) ?? false, schema: s }));
}
