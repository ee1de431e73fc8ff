/**
 * The shape of the code, checked: no import cycles anywhere (type imports included), storage that knows nothing
 * of the web, and a sign-in core that knows nothing of Koa or of oidc-provider.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../..');

function sourcesUnder(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

/** Every module a file imports (`import …`, `import type …`, `export … from`). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'([^']+)'/g)].map((m) => m[1]);
}

function resolved(file: string, specifier: string): string {
  return specifier.startsWith('.') ? path.normalize(path.join(path.dirname(file), specifier)) : specifier;
}

/**
 * madge runs in its own process: it loads every language's detective (TypeScript, the Vue compiler…), and with that
 * module graph loaded the Jest worker no longer exited within Jest's grace period ("A worker process has failed to
 * exit gracefully").
 */
async function importCycles(dirs: string[]): Promise<string[][]> {
  const script = `import madge from 'madge';
    const result = await madge(${JSON.stringify(dirs.map((d) => path.join(root, d)))}, {
      fileExtensions: ['ts'], tsConfig: ${JSON.stringify(path.join(root, 'tsconfig.json'))}, detectiveOptions: { ts: { skipTypeImports: false } },
    });
    process.stdout.write(JSON.stringify({ cycles: result.circular(), files: Object.keys(result.obj()).length }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '--eval', script], { cwd: root, timeout: 90_000, maxBuffer: 10_000_000 });
  const { cycles, files } = JSON.parse(stdout) as { cycles: string[][]; files: number };
  expect(files).toBeGreaterThan(50); // the graph was really built
  return cycles;
}

describe('layering', () => {
  it('has no import cycles, type imports included', async () => {
    expect(await importCycles(['src', 'interactions', 'config'])).toEqual([]);
  }, 60_000);

  it('storage imports nothing from the web layer', () => {
    const offending = sourcesUnder('src/storage').flatMap((file) =>
      importsOf(file).map((s) => resolved(file, s)).filter((s) => s.startsWith('src/http') || s.startsWith('interactions') || s === 'koa').map((s) => `${file} → ${s}`));
    expect(offending).toEqual([]);
  });

  it('the sign-in core imports neither Koa, oidc-provider, the web layer nor the routes', () => {
    const offending = sourcesUnder('src/sign-in').flatMap((file) =>
      importsOf(file).map((s) => resolved(file, s))
        .filter((s) => ['koa', '@koa/router', 'oidc-provider'].includes(s) || s.startsWith('src/http') || s.startsWith('src/provider') || s.startsWith('interactions'))
        .map((s) => `${file} → ${s}`));
    expect(offending).toEqual([]);
  });

  it('finds the imports it checks (the check above is not vacuous)', () => {
    expect(importsOf('src/sign-in/methods/password.ts')).toContain('../sequence.js');
    expect(sourcesUnder('src/storage').length).toBeGreaterThan(10);
  });
});
