/** A private redis-server for the benchmark (persistence off, loopback only) and its INFO counters. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../test/support/process.js';

export interface BenchRedis {
  url: string;
  pid: number;
  /** Commands executed (INFO commandstats, without our INFO calls) and socket reads processed (≈ round trips). */
  counters(): Promise<{ commands: number; reads: number; byCommand: Record<string, number> }>;
  close(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const binary = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!binary) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-redis-'));
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server not ready: ${out}`)), 10_000);
    child.stdout!.on('data', (d) => { out += String(d); if (out.includes('Ready to accept connections')) { clearTimeout(timer); resolve(); } });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  child.stdout!.resume();
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: false });
  return {
    url,
    pid: child.pid!,
    async counters() {
      const [commandstats, stats] = await Promise.all([client.info('commandstats'), client.info('stats')]);
      const byCommand: Record<string, number> = {};
      for (const m of commandstats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) byCommand[m[1]] = Number(m[2]);
      delete byCommand.info;
      const commands = Object.values(byCommand).reduce((a, b) => a + b, 0);
      // Every INFO call of ours is one read too: subtract them (two per counters() call).
      const reads = Number(/total_reads_processed:(\d+)/.exec(stats)?.[1] ?? 0);
      return { commands, reads, byCommand };
    },
    async close() {
      client.disconnect();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
