/**
 * The request frame and its deadline's shared sweep: each request is answered 503 at its own deadline (not at
 * the first one's) and counted then, requests that finish in time are left alone, and the sweep runs only while
 * requests are in flight.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa, { type Context } from 'koa';
import { jest } from '@jest/globals';
import { InFlightRequests } from '../../src/http/request-deadline.js';
import { requestFrame } from '../../src/http/request-frame.js';
import { createLogger } from '../../src/log.js';

const TIMEOUT_MS = 300;
const log = createLogger('silent');
const warn = jest.spyOn(log, 'warn');
const observed: Array<{ path: string; status: number }> = [];
const storeErrors: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  const koa = new Koa();
  koa.use(requestFrame({
    publicUrl: new URL('http://127.0.0.1'), timeoutMs: TIMEOUT_MS, log,
    metrics: { observeRequest: (path, _method, status) => void observed.push({ path, status }), observeStoreError: (store) => void storeErrors.push(store) },
  }));
  koa.use(async (ctx) => {
    if (ctx.path === '/nothing') return;
    if (ctx.path === '/throws') throw new Error('handler bug');
    const wait = Number(ctx.query.ms);
    // ms=-1 never settles: only the deadline can answer.
    await new Promise((resolve) => { if (wait >= 0) setTimeout(resolve, wait); });
    ctx.body = { done: true };
  });
  server = koa.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function timed(ms: number): Promise<{ status: number; body: Record<string, unknown>; tookMs: number; retryAfter: string | null }> {
  const started = Date.now();
  const res = await fetch(`${base}/?ms=${ms}`, { headers: { accept: 'application/json' } });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body, tookMs: Date.now() - started, retryAfter: res.headers.get('retry-after') };
}

test('a request that never settles is answered 503 temporarily_unavailable at its deadline', async () => {
  const answer = await timed(-1);
  expect(answer).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' }, retryAfter: '5' });
  expect(answer.tookMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
  expect(answer.tookMs).toBeLessThan(TIMEOUT_MS * 2);
  expect(observed).toContainEqual({ path: '/', status: 503 });
  expect(storeErrors).toContain('request deadline');
  expect(warn).toHaveBeenCalledWith(expect.objectContaining({ timeoutMs: TIMEOUT_MS }), expect.any(String));
});

test('requests started later expire at their own deadlines; requests that finish in time are untouched', async () => {
  const first = timed(-1);
  await new Promise((r) => setTimeout(r, TIMEOUT_MS / 2));
  const secondStarted = Date.now();
  const second = timed(-1);
  const quick = timed(20);
  const nearlyLate = timed(TIMEOUT_MS / 2);
  const firstAnswer = await first;
  expect(firstAnswer.status).toBe(503);
  // When the first request is answered, the second (started half a deadline later) is still waiting.
  expect(Date.now() - secondStarted).toBeLessThan(TIMEOUT_MS);
  expect(await quick).toMatchObject({ status: 200, body: { done: true } });
  expect(await nearlyLate).toMatchObject({ status: 200, body: { done: true } });
  const secondAnswer = await second;
  expect(secondAnswer.status).toBe(503);
  expect(secondAnswer.tookMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
});

test('the frame also sets the strict headers, answers what nothing answered or what threw, and counts every request', async () => {
  const nothing = await fetch(`${base}/nothing?x=1`, { headers: { accept: 'application/json' } });
  expect(nothing.status).toBe(404);
  expect(await nothing.json()).toMatchObject({ error: 'not_found' });
  expect(nothing.headers.get('x-content-type-options')).toBe('nosniff');
  expect(nothing.headers.get('x-frame-options')).toBe('DENY');
  const thrown = await fetch(`${base}/throws`, { headers: { accept: 'application/json' } });
  expect(thrown.status).toBe(500);
  expect(await thrown.json()).toEqual({ error: 'server_error', error_description: 'An unexpected error occurred.' });
  expect(observed).toEqual(expect.arrayContaining([{ path: '/nothing', status: 404 }, { path: '/throws', status: 500 }, { path: '/', status: 503 }]));
});

test('the sweep expires requests in start order, skips finished ones, and stops when nothing is in flight', () => {
  jest.useFakeTimers({ now: 0 });
  try {
    const expired: string[] = [];
    const inFlight = new InFlightRequests(100, (ctx) => void expired.push(ctx.path));
    const ctx = (path: string) => ({ path }) as Context;
    inFlight.add(ctx('/a'));
    jest.advanceTimersByTime(50);
    const finished = inFlight.add(ctx('/finished'));
    inFlight.add(ctx('/b'));
    inFlight.delete(finished);
    expect(jest.getTimerCount()).toBe(1); // one sweep for all requests in flight
    jest.advanceTimersByTime(50);
    expect(expired).toEqual(['/a']);
    jest.advanceTimersByTime(50);
    expect(expired).toEqual(['/a', '/b']);
    expect(jest.getTimerCount()).toBe(0); // idle: no sweep left running
    inFlight.add(ctx('/c'));
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(110);
    expect(expired).toEqual(['/a', '/b', '/c']);
  } finally {
    jest.useRealTimers();
  }
});
