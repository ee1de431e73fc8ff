/**
 * Issue 7 item 18: the README's "Five-minute walkthrough", executed as written. The server is started with the
 * first block's admin key (`npm start` is `tsx src/main.ts`), the second block's shell commands run in bash
 * (curl + jq) against it, the third block starts examples/relying-party.mjs, and a browser signs in on the relying
 * party through Portcullis' real forms and signs out again. Only the ports differ from the README: both servers
 * listen on free ports.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/http/views.js';
import { Browser } from '../support/browser.js';
import { freePort, spawnServer, type ServerProcess } from '../support/process.js';

const run = promisify(execFile);
const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
const section = /^## Five-minute walkthrough\n([\s\S]*?)^## /m.exec(readme)![1];
const shellBlocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);

let portcullis: ServerProcess;
let rp: ChildProcess | undefined;
let rpOutput = '';
let rpPort: number;
let ids: { clientId: string; clientSecret: string; accountId: string };

/** The README's addresses, with the ports this test got. */
const localise = (text: string) => text.replaceAll('localhost:3000', `localhost:${portcullis.port}`).replaceAll('localhost:8080', `localhost:${rpPort}`);

beforeAll(async () => {
  expect(shellBlocks).toHaveLength(3);
  // Block 1 (terminal 1): ADMIN_API_KEY=… npm start
  const start = /^ADMIN_API_KEY=(\S+) npm start$/m.exec(shellBlocks[0]);
  expect(start).not.toBeNull();
  expect(JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')).scripts.start).toBe('tsx src/main.ts');
  portcullis = await spawnServer({ ADMIN_API_KEY: start![1], HOST: '', PUBLIC_URL: '', MONGODB_URI: '', REDIS_URL: '', SEED_DEMO: 'true' });
  rpPort = await freePort();
}, 40_000);

afterAll(async () => {
  if (rp && rp.exitCode === null) {
    const exited = new Promise((resolve) => rp!.once('exit', resolve));
    rp.kill('SIGTERM');
    await exited;
  }
  await portcullis?.stop();
});

it('runs the Admin API commands of terminal 2 with curl and jq, capturing the ids', async () => {
  // Block 2 as one bash script; the ids it exported are printed at the end for the next steps.
  const script = `set -euo pipefail\n${localise(shellBlocks[1])}\nprintf '\\n%s\\n' "$(jq -nc --arg c "$CLIENT_ID" --arg s "$CLIENT_SECRET" --arg a "$ACCOUNT_ID" '{clientId:$c,clientSecret:$s,accountId:$a}')"`;
  const { stdout } = await run('bash', ['-c', script], { cwd: projectRoot, timeout: 30_000 });
  ids = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(ids.clientId).toMatch(/\S{8,}/);
  expect(ids.clientSecret).toMatch(/\S{16,}/);
  expect(ids.accountId).toMatch(/^acc_/);
  expect(ids.clientId).not.toBe('null');
}, 40_000);

it('starts the example relying party, signs in through Portcullis and shows the tenant claims', async () => {
  // Block 3: node examples/relying-party.mjs, with the ids from terminal 2 in its environment.
  const [command, ...args] = shellBlocks[2].trim().split(/\s+/);
  expect(command).toBe('node');
  rp = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: { ...process.env, CLIENT_ID: ids.clientId, CLIENT_SECRET: ids.clientSecret, ISSUER: `http://localhost:${portcullis.port}/apps/clients`, PORT: String(rpPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  rp.stdout!.on('data', (d) => (rpOutput += String(d)));
  rp.stderr!.on('data', (d) => (rpOutput += String(d)));
  for (const deadline = Date.now() + 15_000; !rpOutput.includes('Relying party on');) {
    if (rp.exitCode !== null || Date.now() > deadline) throw new Error(`relying party did not start: ${rpOutput}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const [, email, password] = /"email":"([^"]+)","password":"([^"]+)"/.exec(shellBlocks[1])!;
  const browser = new Browser(`http://localhost:${rpPort}`);
  expect((await browser.follow('/')).html).toContain('Sign in');
  const login = await browser.follow('/login');
  expect(login.url).toContain(`localhost:${portcullis.port}/apps/clients/interaction/`);
  expect(login.html).toContain('Sign in to Northwind Client Portal');
  const home = await browser.submit(login, { identifier: email, password }, { action: '/login' });
  expect(home.url).toBe(`http://localhost:${rpPort}/`);
  expect(home.html).toContain(`Signed in as ${email}`);
  expect(home.html).toContain('Tenant: acme, roles: company_admin');
  expect(home.html).toContain('&#34;tenant_name&#34;: &#34;Acme Ltd&#34;');

  // Sign out: the relying party ends its session and sends the browser to Portcullis, which comes back to it.
  let page = await browser.follow('/logout');
  if (!page.url.startsWith(`http://localhost:${rpPort}/`)) {
    expect(page.html).toContain('Sign out of Northwind Client Portal?');
    page = await browser.submit(page, {}, { button: { name: 'logout', value: 'yes' } });
  }
  expect(page.url).toBe(`http://localhost:${rpPort}/`);
  expect(page.html).toContain('Not signed in');
  // The Portcullis session is over too: signing in again asks for the password.
  expect((await browser.follow('/login')).html).toContain('name="password"');
}, 60_000);
