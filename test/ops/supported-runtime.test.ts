/**
 * Issue 7 item 17: the supported runtimes are Node.js 22 LTS (22.12+) and 24 LTS. What package.json claims, what
 * the Dockerfile ships and what CI runs must agree, and on a supported runtime start-up prints only JSON log lines
 * (oidc-provider's plain-text "Unsupported runtime" warning was printed on Node 20).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/http/views.js';
import { spawnServer } from '../support/process.js';

const read = (file: string) => readFileSync(path.join(projectRoot, file), 'utf8');
const engines: string = JSON.parse(read('package.json')).engines.node;
const SUPPORTED_MAJORS = [22, 24];

/** `>=MAJOR.MINOR` is the only form engines uses here; semver would be a dependency for one comparison. */
function satisfies(version: string, range: string): boolean {
  const [min, actual] = [/^>=(\d+)\.(\d+)$/.exec(range)!.slice(1), version.split('.')].map((parts) => parts.map(Number));
  return actual[0] > min[0] || (actual[0] === min[0] && actual[1] >= min[1]);
}

it('declares Node >=22.12 and this test run is on a supported runtime', () => {
  expect(engines).toBe('>=22.12');
  // Run the suite on Node 22 or 24 (.ci/run installs both); Node 20 is end-of-life.
  expect({ node: process.versions.node, satisfies: satisfies(process.versions.node, engines) }).toEqual({ node: process.versions.node, satisfies: true });
  expect(process.release.lts).toBeTruthy();
});

it('ships a supported Node line in every Dockerfile stage', () => {
  const images = [...read('Dockerfile').matchAll(/^FROM\s+node:(\d+)[^\s]*/gm)].map((m) => Number(m[1]));
  expect(images.length).toBeGreaterThan(0);
  for (const major of images) expect(SUPPORTED_MAJORS).toContain(major);
});

it('makes CI run the README test command on Node 22 and on Node 24', () => {
  const ci = read('.ci/run');
  expect(ci).toMatch(/^set -euo pipefail$/m);
  expect(/^SUPPORTED_NODE_MAJORS=\(([\d ]+)\)$/m.exec(ci)![1].split(' ').map(Number)).toEqual(SUPPORTED_MAJORS);
  expect(ci).toMatch(/^\s*npm ci && npm test$/m);
  expect(ci).toMatch(/apt-get update/);
  expect(ci).toMatch(/apt-get install -y[^\n]* redis-server chromium/);
  for (const major of SUPPORTED_MAJORS) expect(satisfies(`${major}.99.0`, engines)).toBe(true);
  expect(satisfies('20.19.0', engines)).toBe(false);
});

it('prints only JSON log lines at start-up (no plain-text runtime warning)', async () => {
  const server = await spawnServer({ PUBLIC_URL: '', ADMIN_API_KEY: '', MONGODB_URI: '', REDIS_URL: '' });
  try {
    for (const deadline = Date.now() + 10_000; !server.output().includes('Demo ready') && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
    const lines = server.output().split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(2);
    const notJson = lines.filter((line) => { try { JSON.parse(line); return false; } catch { return true; } });
    expect(notJson).toEqual([]);
  } finally {
    await server.stop();
  }
}, 40_000);
