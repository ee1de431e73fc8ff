/**
 * The password sign-in floor: raw `argon2.verify` per second with the server's exact parameters
 * (`ARGON2_PARAMS` of src/accounts/password.ts) and the same libuv thread pool size (UV_THREADPOOL_SIZE is passed on
 * unchanged), at the flow driver's concurrency, in its own process. Prints one JSON line.
 */
import argon2 from 'argon2';
import { ARGON2_PARAMS } from '../../src/accounts/password.js';

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 8);
const hash = await argon2.hash('bench-password', ARGON2_PARAMS);
await argon2.verify(hash, 'bench-password');
const deadline = Date.now() + seconds * 1000;
let done = 0;
const started = Date.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (Date.now() < deadline && done < 1_000_000) {
    if (!(await argon2.verify(hash, 'bench-password'))) throw new Error('argon2.verify failed');
    done += 1;
  }
}));
process.stdout.write(`${JSON.stringify({ verifies: done, perSecond: done / ((Date.now() - started) / 1000) })}\n`);
