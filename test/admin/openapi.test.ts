/**
 * The OpenAPI 3.1 document of the Admin API: public, complete (every route the router registers is documented and
 * every documented operation exists), and truthful (its request schemas accept and reject what the routes do).
 */
import { adminRouter } from '../../src/admin/router.js';
import { slugSchema } from '../../src/admin/schemas.js';
import { ADMIN_KEY, startServer, type TestServer } from '../support/server.js';

type Json = any;
type Operation = { path: string; method: string };

let server: TestServer;
let doc: Json;

beforeAll(async () => {
  server = await startServer();
  const res = await fetch(`${server.url}/admin/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = await res.json();
});
afterAll(() => server.close());

/** The operations the product specification requires, in OpenAPI path syntax. */
const REQUIRED_OPERATIONS: Operation[] = [
  ['post', '/apps'], ['get', '/apps'],
  ['get', '/apps/{slug}'], ['patch', '/apps/{slug}'], ['delete', '/apps/{slug}'],
  ['post', '/apps/{slug}/clients'], ['get', '/apps/{slug}/clients'],
  ['get', '/apps/{slug}/clients/{client_id}'], ['patch', '/apps/{slug}/clients/{client_id}'], ['delete', '/apps/{slug}/clients/{client_id}'],
  ['post', '/apps/{slug}/clients/{client_id}/secret'],
  ['post', '/apps/{slug}/accounts'], ['get', '/apps/{slug}/accounts'],
  ['get', '/apps/{slug}/accounts/{id}'], ['patch', '/apps/{slug}/accounts/{id}'], ['delete', '/apps/{slug}/accounts/{id}'],
  ['post', '/apps/{slug}/tenants'], ['get', '/apps/{slug}/tenants'],
  ['get', '/apps/{slug}/tenants/{tenant}'], ['patch', '/apps/{slug}/tenants/{tenant}'], ['delete', '/apps/{slug}/tenants/{tenant}'],
  ['get', '/apps/{slug}/tenants/{tenant}/members'],
  ['put', '/apps/{slug}/tenants/{tenant}/members/{accountId}'], ['delete', '/apps/{slug}/tenants/{tenant}/members/{accountId}'],
].map(([method, path]) => ({ method, path }));

/** Operations that take a JSON body, and the fields each requires. */
const BODY_OPERATIONS: Array<Operation & { required: string[] }> = [
  { method: 'post', path: '/apps', required: ['name', 'slug'] },
  { method: 'patch', path: '/apps/{slug}', required: [] },
  { method: 'post', path: '/apps/{slug}/clients', required: ['name', 'redirect_uris'] },
  { method: 'patch', path: '/apps/{slug}/clients/{client_id}', required: [] },
  { method: 'post', path: '/apps/{slug}/accounts', required: [] },
  { method: 'patch', path: '/apps/{slug}/accounts/{id}', required: [] },
  { method: 'post', path: '/apps/{slug}/tenants', required: ['name', 'slug'] },
  { method: 'patch', path: '/apps/{slug}/tenants/{tenant}', required: [] },
  { method: 'put', path: '/apps/{slug}/tenants/{tenant}/members/{accountId}', required: ['roles'] },
];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const label = (op: Operation) => `${op.method.toUpperCase()} ${op.path}`;

/** Admin API operations: path items with their own `servers` are other APIs in the document (the account API). */
function documentedOperations(): Operation[] {
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).filter(([, item]) => !item.servers).flatMap(([path, item]) =>
    Object.keys(item).filter((m) => METHODS.includes(m)).map((method) => ({ path, method })));
}

function operation(op: Operation): Json {
  return doc.paths[op.path]?.[op.method];
}

function requestSchema(op: Operation): Json {
  return operation(op)?.requestBody?.content?.['application/json']?.schema;
}

/** Fills path parameters from `values`; an unknown parameter becomes a placeholder. */
function fill(path: string, values: Record<string, string>): { url: string; allKnown: boolean } {
  let allKnown = true;
  const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (values[name] === undefined) allKnown = false;
    return encodeURIComponent(values[name] ?? 'placeholder');
  });
  return { url, allKnown };
}

async function call(method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${server.url}/admin/v1${path}`, {
    method: method.toUpperCase(),
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // NDJSON (the audit export) is several JSON documents: kept as text.
  const isJson = /^application\/json/.test(res.headers.get('content-type') ?? '');
  return { status: res.status, body: text && isJson ? JSON.parse(text) : text || undefined };
}

/** The error handler's answer when no route matches at all (as opposed to a route saying "no such app"). */
const isNoRoute = (res: { status: number; body: Json }) =>
  res.status === 405 || (res.status === 404 && res.body?.error_description === 'There is nothing at this address.');

/**
 * A small validator for the subset of JSON Schema that zod emits for these bodies: enough to ask the document
 * "would you accept this?" and compare its answer with the route's.
 */
function schemaAccepts(schema: Json, value: unknown): boolean {
  if (schema === undefined || schema === true) return true;
  if (schema.enum && !schema.enum.includes(value)) return false;
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
      const record = value as Record<string, unknown>;
      if ((schema.required ?? []).some((k: string) => !(k in record))) return false;
      return Object.entries(record).every(([k, v]) => (k in (schema.properties ?? {}) ? schemaAccepts(schema.properties[k], v) : schema.additionalProperties !== false));
    }
    case 'array':
      return Array.isArray(value) && value.length >= (schema.minItems ?? 0) && value.length <= (schema.maxItems ?? Infinity) && value.every((v) => schemaAccepts(schema.items, v));
    case 'string':
      return typeof value === 'string' && [...value].length >= (schema.minLength ?? 0) && [...value].length <= (schema.maxLength ?? Infinity)
        && (schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(value));
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value) && (value as number) >= (schema.minimum ?? -Infinity) && (value as number) <= (schema.maximum ?? Infinity);
    default:
      return true;
  }
}

/** Collects every `default` keyword in a schema (a PATCH must not document defaults: omitted means unchanged). */
function defaultsIn(schema: Json, at = ''): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  return Object.entries(schema).flatMap(([k, v]) => (k === 'default' ? [at || '(root)'] : defaultsIn(v, at ? `${at}.${k}` : k)));
}

describe('the OpenAPI document', () => {
  it('is served without the admin key as OpenAPI 3.1.0 with bearer security', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.servers).toEqual([{ url: `${server.url}/admin/v1` }]);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it('documents every operation the specification requires', () => {
    const documented = documentedOperations().map(label);
    for (const op of REQUIRED_OPERATIONS) expect(documented).toContain(label(op));
  });

  it('documents every route the admin router registers', () => {
    const router = adminRouter({
      services: server.portcullis.services, stores: server.stores, config: server.config, adminKey: ADMIN_KEY, pool: server.portcullis.pool, operations: server.portcullis.services.operations,
    });
    const registered = router.stack
      .filter((layer) => layer.methods.length > 0 && typeof layer.path === 'string' && !String(layer.path).endsWith('/openapi.json'))
      .flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${String(layer.path).replace('/admin/v1', '').replace(/:([A-Za-z_]+)/g, '{$1}')}`));
    expect(registered.length).toBeGreaterThanOrEqual(REQUIRED_OPERATIONS.length);
    const documented = documentedOperations().map(label);
    for (const route of registered) expect(documented).toContain(route);
  });

  it('declares path parameters matching the path, and the responses each route can give', () => {
    for (const op of documentedOperations()) {
      const spec = operation(op);
      const names = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (spec.parameters ?? []).filter((p: Json) => p.in === 'path');
      expect([label(op), declared.map((p: Json) => p.name)]).toEqual([label(op), names]);
      for (const p of declared) expect(p.required).toBe(true);
      expect(spec.summary).toEqual(expect.any(String));
      expect(spec.responses['401']).toEqual({ $ref: '#/components/responses/Unauthorized' });
      if (names.length) expect(spec.responses['404']).toEqual({ $ref: '#/components/responses/NotFound' });
      const success = Object.keys(spec.responses).filter((s) => s.startsWith('2'));
      expect([label(op), success.length]).toEqual([label(op), 1]);
    }
    for (const ref of ['BadRequest', 'Unauthorized', 'NotFound', 'Conflict']) {
      expect(doc.components.responses[ref].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    }
    expect(doc.components.schemas.Error.required).toEqual(['error', 'error_description']);
  });

  it('documents the success status each route really answers with', () => {
    expect(Object.keys(operation({ method: 'post', path: '/apps' }).responses)).toContain('201');
    expect(Object.keys(operation({ method: 'delete', path: '/apps/{slug}' }).responses)).toContain('204');
    expect(Object.keys(operation({ method: 'post', path: '/apps/{slug}/clients/{client_id}/secret' }).responses)).toContain('200');
    expect(Object.keys(operation({ method: 'put', path: '/apps/{slug}/tenants/{tenant}/members/{accountId}' }).responses)).toContain('200');
  });

  it('has a strict JSON request body schema for every POST, PATCH and PUT that takes a body', () => {
    for (const op of BODY_OPERATIONS) {
      const spec = operation(op);
      expect([label(op), spec.requestBody?.required]).toEqual([label(op), true]);
      const schema = requestSchema(op);
      expect([label(op), schema?.type, schema?.additionalProperties]).toEqual([label(op), 'object', false]);
      expect([label(op), [...(schema.required ?? [])].sort()]).toEqual([label(op), op.required]);
      expect(spec.responses['400']).toEqual({ $ref: '#/components/responses/BadRequest' });
    }
    // Bodiless actions document no body.
    expect(operation({ method: 'post', path: '/apps/{slug}/clients/{client_id}/secret' }).requestBody).toBeUndefined();
  });

  it('documents the email, limit and after query parameters of the account list', () => {
    const query = operation({ method: 'get', path: '/apps/{slug}/accounts' }).parameters.filter((p: Json) => p.in === 'query');
    expect(query.map((p: Json) => p.name).sort()).toEqual(['after', 'email', 'limit']);
    expect(query.find((p: Json) => p.name === 'limit').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500 });
  });

  it('documents no defaults in PATCH bodies, since an omitted field means "unchanged"', () => {
    for (const op of BODY_OPERATIONS.filter((o) => o.method === 'patch')) {
      expect([label(op), defaultsIn(requestSchema(op))]).toEqual([label(op), []]);
    }
  });

  it('uses the same slug pattern as the routes enforce', () => {
    const enforced: RegExp[] = (slugSchema as Json)._zod.def.checks.map((check: Json) => check._zod.def.pattern).filter(Boolean);
    const documented = requestSchema({ method: 'post', path: '/apps' }).properties.slug.pattern;
    expect(enforced.map((r) => r.source)).toEqual([documented]);
    expect(requestSchema({ method: 'post', path: '/apps/{slug}/tenants' }).properties.slug.pattern).toBe(documented);
  });
});

describe('the documented operations exist', () => {
  it('every documented operation refuses a request without the key (401), so none is left unprotected', async () => {
    for (const op of documentedOperations()) {
      const { url } = fill(op.path, {});
      const res = await call(op.method, url, BODY_OPERATIONS.some((b) => label(b) === label(op)) ? {} : undefined, null);
      expect([label(op), res.status]).toEqual([label(op), 401]);
    }
  });

  it('every documented operation is routed: with real identifiers none answers "no such route"', async () => {
    const slug = 'openapi-probe';
    await server.admin.ok('POST', '/apps', { slug, name: 'Probe' });
    const client = await server.admin.ok('POST', `/apps/${slug}/clients`, { name: 'Probe', redirect_uris: ['https://probe.example.test/cb'] });
    const account = await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'probe@example.com' });
    const tenant = await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'probe-tenant', name: 'Probe' });
    await server.admin.ok('PUT', `/apps/${slug}/tenants/${tenant.slug}/members/${account.id}`, { roles: ['member'] });
    const values = { slug, client_id: client.client_id, id: account.id, tenant: tenant.id, accountId: account.id };

    // Deletions last, innermost resources first, so every route still finds what it addresses.
    const ops = documentedOperations();
    const ordered = [...ops.filter((o) => o.method !== 'delete'), ...ops.filter((o) => o.method === 'delete').sort((a, b) => b.path.length - a.path.length)];
    for (const op of ordered) {
      const { url, allKnown } = fill(op.path, values);
      const hasBody = Boolean(operation(op).requestBody);
      const res = await call(op.method, url, hasBody ? {} : undefined);
      expect([label(op), isNoRoute(res), res.status < 500]).toEqual([label(op), false, true]);
      // With real identifiers the route answers success, or 400 for the empty body it was sent.
      if (allKnown) expect([label(op), [200, 201, 204, 400].includes(res.status)]).toEqual([label(op), true]);
    }
  });

  it('an undocumented route really answers "no such route" (the probe can tell the difference)', async () => {
    expect(isNoRoute(await call('get', '/nothing-here'))).toBe(true);
    const wrongMethod = await call('put', '/apps');
    expect(isNoRoute(wrongMethod)).toBe(true);
    expect(wrongMethod).toEqual({ status: 405, body: { error: 'method_not_allowed', error_description: expect.any(String) } });
    expect(isNoRoute(await call('get', '/apps/no-such-app'))).toBe(false);
  });
});

describe('the request schemas accept and reject what the routes do', () => {
  let slug: string;
  beforeAll(async () => {
    slug = 'openapi-schemas';
    await server.admin.ok('POST', '/apps', { slug, name: 'Schemas' });
  });

  /** Asks the document and the route about the same body; they must agree. */
  async function agree(op: Operation, path: string, body: unknown): Promise<void> {
    const documented = schemaAccepts(requestSchema(op), body);
    const res = await call(op.method, path, body);
    const routeAccepts = res.status !== 400;
    expect([label(op), body, res.status < 500, routeAccepts]).toEqual([label(op), body, true, documented]);
  }

  const slugs = ['a', 'a1', 'abc-def', '0', 'a'.repeat(63), 'a'.repeat(64), '-abc', 'abc-', 'ABC', 'a_b', 'a.b', 'café', 'a b', '', 'a--b'];

  it('app slugs', async () => {
    const op = { method: 'post', path: '/apps' };
    for (const candidate of slugs) await agree(op, '/apps', { slug: candidate, name: 'x' });
    expect(new RegExp(requestSchema(op).properties.slug.pattern).test('valid-slug')).toBe(true);
  });

  it('tenant slugs and names', async () => {
    const op = { method: 'post', path: '/apps/{slug}/tenants' };
    for (const candidate of slugs) await agree(op, `/apps/${slug}/tenants`, { slug: candidate, name: 'Tenant' });
    for (const name of ['', 'n'.repeat(200), 'n'.repeat(201), 42]) await agree(op, `/apps/${slug}/tenants`, { slug: `name-${String(name).length}`, name });
  });

  it('enums, types and unknown fields of a client', async () => {
    const op = { method: 'post', path: '/apps/{slug}/clients' };
    const base = { name: 'Client', redirect_uris: ['https://c.example.test/cb'] };
    for (const method of ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt', 'tls_client_auth']) {
      await agree(op, `/apps/${slug}/clients`, { ...base, token_endpoint_auth_method: method });
    }
    for (const grants of [['authorization_code'], ['refresh_token', 'authorization_code'], ['implicit'], [], 'authorization_code']) {
      await agree(op, `/apps/${slug}/clients`, { ...base, grant_types: grants });
    }
    await agree(op, `/apps/${slug}/clients`, { ...base, first_party: 'yes' });
    await agree(op, `/apps/${slug}/clients`, { ...base, unknown_field: true });
    await agree(op, `/apps/${slug}/clients`, { name: 'Client' });
  });

  it('settings of an app, created and patched', async () => {
    const create = { method: 'post', path: '/apps' };
    const patch = { method: 'patch', path: '/apps/{slug}' };
    const settings = [
      { login_methods: ['password'] }, { login_methods: [] }, { login_methods: ['password', 'email_code', 'sms_code', 'magic_link', 'password'] },
      { registration: 'open' }, { registration: 'sometimes' }, { accounts_per_email: 'many' }, { session_ttl_seconds: 299 }, { session_ttl_seconds: 3600 },
      { session_ttl_seconds: 3600.5 }, { locale: 'en-GB' }, { locale: 'EN' }, { messaging: { mode: 'deliver' } }, { messaging: { mode: 'deliver', extra: 1 } }, { unknown: 1 },
    ];
    for (const s of settings) await agree(patch, `/apps/${slug}`, { settings: s });
    await agree(create, '/apps', { slug: 'settings-create', name: 'x', settings: { registration: 'closed' } });
    await agree(create, '/apps', { slug: 'settings-create-2', name: 'x', settings: { registration: 'never' } });
  });

  it('accounts: emails, phone numbers and booleans', async () => {
    const op = { method: 'post', path: '/apps/{slug}/accounts' };
    for (const email of ['plain@example.com', 'first.last+tag@sub.example.co.uk', 'no-at-sign', 'two@@example.com', 'x@localhost', '']) {
      await agree(op, `/apps/${slug}/accounts`, { email });
    }
    for (const phone of ['+14155550123', '14155550123', '+0123456789', '+1234']) await agree(op, `/apps/${slug}/accounts`, { phone_number: phone });
    await agree(op, `/apps/${slug}/accounts`, { email: 'bool@example.com', email_verified: 'true' });
  });

  it('membership roles', async () => {
    const op = { method: 'put', path: '/apps/{slug}/tenants/{tenant}/members/{accountId}' };
    await server.admin.ok('POST', `/apps/${slug}/tenants`, { slug: 'roles', name: 'Roles' });
    const account = await server.admin.ok('POST', `/apps/${slug}/accounts`, { email: 'roles@example.com' });
    const path = `/apps/${slug}/tenants/roles/members/${account.id}`;
    for (const roles of [[], ['admin'], ['a:b.c_d-e'], ['has space'], ['r'.repeat(64)], ['r'.repeat(65)], 'admin', [1]]) await agree(op, path, { roles });
    await agree(op, path, {});
  });
});
