/**
 * Portcullis as separate server processes (`tsx src/main.ts`), for tests that restart a server or run several
 * processes against shared MongoDB + Redis, exactly as an operator runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { projectRoot } from '../../src/http/views.js';

export interface ServerProcess {
  port: number;
  url: string;
  /** Last lines the process wrote (for failure messages). */
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL: no shutdown code runs (a crash). */
  kill(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Puts `db` as the database of a MongoDB connection string (keeps hosts and options). */
export function withDatabase(uri: string, db: string): string {
  const [base, query] = uri.split('?');
  const schemeEnd = base.indexOf('://') + 3;
  const slash = base.indexOf('/', schemeEnd);
  const hosts = slash === -1 ? base : base.slice(0, slash);
  return `${hosts}/${db}${query ? `?${query}` : ''}`;
}

export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  let child: ChildProcess | undefined;
  let lines: string[] = [];
  const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');

  const handle: ServerProcess = {
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => lines.slice(-40).join(''),
    async start() {
      lines = [];
      child = spawn(tsx, [path.join(projectRoot, 'src', 'main.ts')], {
        cwd: projectRoot,
        env: { ...process.env, LOG_LEVEL: 'info', HOST: '127.0.0.1', ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d) => lines.push(String(d)));
      child.stderr!.on('data', (d) => lines.push(String(d)));
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`server exited: ${handle.output()}`);
        const ok = await fetch(`${handle.url}/readyz`).then((r) => r.ok, () => false);
        if (ok) return;
        if (Date.now() > deadline) {
          // A server that never became ready is still a running child: left alone, it keeps the test worker
          // alive after its tests ("A worker process has failed to exit gracefully").
          await handle.kill();
          throw new Error(`server did not become ready: ${handle.output()}`);
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
  await handle.start();
  return handle;
}
