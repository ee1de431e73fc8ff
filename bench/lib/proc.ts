/**
 * Child processes of the benchmark and what the kernel says about them. Every server, load generator and flow
 * driver runs in its own process, so a measured server never shares its CPU with the code that measures it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const projectRoot = path.dirname(benchDir);

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ is 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** A child started with `node --import tsx` and an IPC channel: `ask` sends a command and awaits its reply. */
export interface Child {
  pid: number;
  process: ChildProcess;
  ask<T = any>(command: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  output(): string;
  stop(): Promise<void>;
}

let nextId = 1;

export function startChild(script: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Child & { ready: any }> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(benchDir, script)], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  child.stdout!.on('data', (d) => { lines.push(String(d)); if (lines.length > 80) lines.shift(); });
  child.stderr!.on('data', (d) => { lines.push(String(d)); if (lines.length > 80) lines.shift(); });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  child.on('message', (message: any) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${script}: ${message.error}`));
    else waiter.resolve(message.result);
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${script} exited (${code}):\n${lines.join('')}`));
    pending.clear();
  });
  const handle: Child = {
    pid: child.pid!,
    process: child,
    output: () => lines.join(''),
    ask(command, timeoutMs = 15 * 60_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { pending.delete(id); reject(new Error(`${script}: no answer to ${command.cmd} in ${timeoutMs} ms`)); }, timeoutMs);
        pending.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
        child.send({ id, ...command });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  // The child answers {id: 0} once it is ready (listening, connected).
  return new Promise((resolve, reject) => {
    pending.set(0, { resolve: (ready) => resolve({ ...handle, ready }), reject });
  });
}

/** Serves IPC commands in a child: `handlers[cmd](message)` → reply. Sends `ready` as the answer to id 0. */
export function serveCommands(handlers: Record<string, (message: any) => Promise<unknown> | unknown>, ready: unknown): void {
  process.on('message', async (message: any) => {
    try {
      const handler = handlers[message.cmd];
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      process.send!({ id: message.id, result: await handler(message) });
    } catch (err) {
      process.send!({ id: message.id, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ id: 0, result: ready });
}

/** CPU seconds (user + system) the process used so far, all threads; and its main thread alone. */
export function cpuSeconds(pid: number): { process: number; mainThread: number } {
  const ticks = (file: string) => {
    const stat = readFileSync(file, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat(5))
  };
  return { process: ticks(`/proc/${pid}/stat`) / TICKS_PER_SECOND, mainThread: ticks(`/proc/${pid}/task/${pid}/stat`) / TICKS_PER_SECOND };
}

/** Resident set size in MB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;
