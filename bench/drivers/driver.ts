/**
 * The benchmark's client side, in its own process: autocannon for token load, openid-client + a form-driving
 * browser for sign-in flows, an SMTP sink that receives the emailed sign-in codes, and the Admin API calls of the
 * apps-scale mode. Only ever talks to 127.0.0.1; every loop is bounded by a deadline and a count.
 */
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import * as oidc from 'openid-client';
import { SMTPServer } from 'smtp-server';
import { Browser } from '../../test/support/browser.js';
import { percentile, serveCommands } from '../lib/proc.js';

const REDIRECT_URI = 'https://rp.example.test/callback';
const MAX_FLOWS = 1_000_000;

/** Codes received by the SMTP sink, by recipient, waiting for the flow that asked for them. */
const waiting = new Map<string, (code: string) => void>();
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, session, callback) {
    let raw = '';
    stream.on('data', (chunk) => (raw += String(chunk)));
    stream.on('end', () => {
      const code = /\b(\d{6})\b/.exec(raw.split(/\r?\n\r?\n/).slice(1).join('\n'))?.[1];
      for (const to of session.envelope.rcptTo) {
        const resolve = waiting.get(to.address.toLowerCase());
        if (resolve && code) { waiting.delete(to.address.toLowerCase()); resolve(code); }
      }
      callback();
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));

function codeFor(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiting.delete(address); reject(new Error(`no code mailed to ${address}`)); }, 10_000);
    waiting.set(address, (code) => { clearTimeout(timer); resolve(code); });
  });
}

interface FlowTarget {
  kind: 'password' | 'code' | 'bare';
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: string[];
  password?: string;
}

const configs = new Map<string, Promise<oidc.Configuration>>();
function configFor(target: FlowTarget): Promise<oidc.Configuration> {
  const key = `${target.issuer}|${target.clientId}`;
  if (!configs.has(key)) configs.set(key, oidc.discovery(new URL(target.issuer), target.clientId, target.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] }));
  return configs.get(key)!;
}

/** One whole sign-in as a browser and a relying party do it: authorize → page(s) → code → token exchange. */
async function oneFlow(target: FlowTarget, account: string): Promise<void> {
  const config = await configFor(target);
  const origin = new URL(target.issuer).origin;
  const browser = new Browser(origin);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const page = await browser.follow(url.href, REDIRECT_URI);
  let back;
  if (target.kind === 'bare') {
    back = await browser.submit(page, {}, { stopAt: REDIRECT_URI });
  } else if (target.kind === 'password') {
    back = await browser.submit(page, { identifier: account, password: target.password! }, { action: '/login', stopAt: REDIRECT_URI });
  } else {
    const mailed = codeFor(account.toLowerCase());
    const codePage = await browser.submit(page, { identifier: account }, { formaction: `${new URL(page.url).pathname}/code/send`, button: { name: 'channel', value: 'email' } });
    back = await browser.submit(codePage, { code: await mailed }, { action: '/code', stopAt: REDIRECT_URI });
  }
  if (!back.url.startsWith(REDIRECT_URI)) throw new Error(`flow did not return to the RP: ${back.status} ${back.url} ${back.html.slice(0, 300)}`);
  await oidc.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
}

let accountCursor = 0;

async function flows(message: { target: FlowTarget; seconds: number; concurrency: number; count?: number }) {
  const { target } = message;
  const deadline = Date.now() + message.seconds * 1000;
  const limit = message.count ?? MAX_FLOWS;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = Date.now();
  await Promise.all(Array.from({ length: message.concurrency }, async () => {
    while (Date.now() < deadline && done + errors < limit) {
      const account = target.accounts[accountCursor++ % target.accounts.length];
      try {
        await oneFlow(target, account);
        done += 1;
      } catch (err) {
        errors += 1;
        firstError ??= err instanceof Error ? err.message : String(err);
        if (errors > 20) throw new Error(`too many failed flows: ${firstError}`);
      }
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  return { flows: done, errors, firstError, seconds, perSecond: done / seconds };
}

async function load(message: { url: string; headers: Record<string, string>; body: string; seconds: number; connections: number }) {
  const result = await autocannon({
    url: message.url, method: 'POST', connections: message.connections, duration: message.seconds,
    headers: message.headers, body: message.body,
  });
  return {
    requests: result.requests.total, perSecond: result.requests.average, non2xx: result.non2xx, errors: result.errors,
    statusCodes: (result as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats,
    p50: result.latency.p50, p99: result.latency.p99,
  };
}

async function admin(base: string, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Creates `count` apps `prefix-0…` through the Admin API, `concurrency` at a time. */
async function createApps(message: { base: string; key: string; prefix: string; count: number; concurrency: number; maxSeconds: number }) {
  const started = Date.now();
  const deadline = started + message.maxSeconds * 1000;
  let next = 0;
  await Promise.all(Array.from({ length: message.concurrency }, async () => {
    while (next < message.count && Date.now() < deadline) {
      const i = next++;
      await admin(message.base, message.key, 'POST', '/apps', { slug: `${message.prefix}-${i}`, name: `Bench ${i}` });
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  return { created: Math.min(next, message.count), seconds, perSecond: Math.min(next, message.count) / seconds };
}

/** Discovery + JWKS of each app, one app at a time (latency of a relying party starting up), in ms. */
async function discover(message: { base: string; slugs: string[] }) {
  const times: number[] = [];
  for (const slug of message.slugs) {
    const started = performance.now();
    const discovery = await fetch(`${message.base}/apps/${slug}/.well-known/openid-configuration`);
    if (!discovery.ok) throw new Error(`discovery of ${slug}: ${discovery.status}`);
    const { jwks_uri: jwksUri } = (await discovery.json()) as { jwks_uri: string };
    const jwks = await fetch(jwksUri.replace(/^https?:\/\/[^/]+/, message.base));
    if (!jwks.ok) throw new Error(`jwks of ${slug}: ${jwks.status}`);
    await jwks.arrayBuffer();
    times.push(performance.now() - started);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), count: times.length };
}

serveCommands({
  flows,
  load,
  createApps,
  discover,
  admin: (m) => admin(m.base, m.key, m.method, m.path, m.body),
}, { smtpPort: (smtp.server.address() as AddressInfo).port });
process.on('SIGTERM', () => { smtp.close(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref(); });
