/**
 * Real MongoDB for tests, or an explicit skip. Never a stand-in: the Mongo code is only worth testing against the
 * server it will run on.
 *
 * - `MONGODB_URI` set: that server is used; every `describeMongo` block gets its own database, dropped afterwards.
 * - otherwise, `mongod` on PATH: a private instance is started on a free port with a temporary dbpath, and stopped
 *   (and its files removed) after the block.
 * - otherwise: the block is registered with `describe.skip`; one line per run (`mongo-availability.ts`, Jest's globalSetup) says why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import { createMongo, waitForMongo } from '../../src/storage/mongo/connection.js';
import { ensureIndexes } from '../../src/storage/mongo/ensure-indexes.js';
import { defineModels } from '../../src/storage/mongo/models.js';
import { findMongod, mongoAvailable } from './mongo-availability.js';

export { findMongod, mongoAvailable };

export interface MongoServer {
  /** Connection string without a database name (the database is chosen per block with `dbName`). */
  uri: string;
  stop(): Promise<void>;
}

/** What a `describeMongo` body uses from its hooks and tests (not at registration time: nothing is connected yet). */
export interface MongoTestContext {
  /** The block's connection, with indexes built. */
  connection(): Connection;
  /** Deletes every document of every model, for tests that need empty collections. */
  clear(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** A database name no other test file (or concurrent run) uses; at most 63 bytes as MongoDB requires. */
export function uniqueDatabaseName(label: string): string {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  return `portcullis_test_${slug}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** The configured server, a freshly started private `mongod`, or undefined when neither exists. */
export async function startMongo(): Promise<MongoServer | undefined> {
  const configured = process.env.MONGODB_URI;
  if (configured) return { uri: configured, stop: async () => {} };
  const mongod = findMongod();
  return mongod ? startPrivateMongod(mongod) : undefined;
}

interface PrivateMongod extends MongoServer {
  port: number;
  /** SIGKILL, as a crashed machine: no clean shutdown, no step-down. */
  kill(): void;
}

async function startPrivateMongod(binary: string, extraArgs: string[] = []): Promise<PrivateMongod> {
  const port = await freePort();
  const dbpath = mkdtempSync(path.join(tmpdir(), 'portcullis-mongod-'));
  const child = spawn(binary, ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dbpath, '--quiet', '--nounixsocket', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async () => {
    await stopProcess(child);
    rmSync(dbpath, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { uri: `mongodb://127.0.0.1:${port}/`, port, stop, kill: () => child.kill('SIGKILL') };
}

export interface MongoReplicaSet {
  /** `mongodb://h1,h2,h3/?replicaSet=rs0`: what an operator puts in MONGODB_URI. */
  uri: string;
  /** The port of the member that is primary now. */
  primaryPort(): Promise<number>;
  /** Kills one member (SIGKILL). */
  kill(port: number): void;
  stop(): Promise<void>;
}

/**
 * Three private `mongod` members of replica set `rs0` (needs `mongod` on PATH; `MONGODB_URI` cannot give a replica
 * set to kill members of). Elections are quick (2 s election timeout) so a failover test stays short; the first
 * member is preferred as primary at the start.
 */
export async function startMongoReplicaSet(): Promise<MongoReplicaSet> {
  const binary = findMongod();
  if (!binary) throw new Error('startMongoReplicaSet needs mongod on PATH');
  const members: PrivateMongod[] = [];
  const stop = async () => { await Promise.all(members.map((m) => m.stop())); };
  try {
    for (let i = 0; i < 3; i++) members.push(await startPrivateMongod(binary, ['--replSet', 'rs0', '--oplogSize', '50']));
    const { MongoClient } = mongoose.mongo;
    const first = new MongoClient(`mongodb://127.0.0.1:${members[0].port}/?directConnection=true`, { serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS });
    try {
      await first.db('admin').command({
        replSetInitiate: {
          _id: 'rs0',
          members: members.map((m, i) => ({ _id: i, host: `127.0.0.1:${m.port}`, priority: i === 0 ? 2 : 1 })),
          settings: { electionTimeoutMillis: 2000, heartbeatIntervalMillis: 500 },
        },
      });
    } finally {
      await first.close();
    }
    const set: MongoReplicaSet = {
      uri: `mongodb://${members.map((m) => `127.0.0.1:${m.port}`).join(',')}/?replicaSet=rs0`,
      async primaryPort() {
        const deadline = Date.now() + START_TIMEOUT_MS;
        while (Date.now() < deadline) {
          for (const member of members) {
            const client = new MongoClient(`mongodb://127.0.0.1:${member.port}/?directConnection=true`, { serverSelectionTimeoutMS: 500 });
            try {
              const hello = await client.db('admin').command({ hello: 1 });
              if (hello.isWritablePrimary) return member.port;
            } catch {
              // a killed or still starting member
            } finally {
              await client.close().catch(() => undefined);
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        throw new Error(`replica set rs0 elected no primary within ${START_TIMEOUT_MS} ms`);
      },
      kill: (port) => members.find((m) => m.port === port)?.kill(),
      stop,
    };
    await set.primaryPort();
    return set;
  } catch (error) {
    await stop();
    throw error;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once mongod accepts TCP connections; rejects if it exits first or takes too long. */
async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mongod exited with code ${child.exitCode}:\n${output()}`);
    if (await accepts(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`mongod did not listen on port ${port} within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
}

/** SIGTERM lets mongod shut down cleanly; SIGKILL after 10 s so a stuck server never hangs the test run. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * `describe` for a block that starts `mongod` processes itself ({@link startMongoReplicaSet}): skipped without a
 * `mongod` on PATH, even with `MONGODB_URI` (the global setup says so in one line).
 */
export function describeWithMongod(name: string, fn: () => void): void {
  (findMongod() ? describe : describe.skip)(name, fn);
}

/**
 * `describe` against a real MongoDB: the block gets its own database (indexes built by `ensureIndexes`, dropped in
 * `afterAll`). Without a server the block is registered as skipped, so the report shows it was not run.
 */
export function describeMongo(name: string, fn: (mongo: MongoTestContext) => void): void {
  if (!mongoAvailable()) {
    describe.skip(name, () => fn(unavailableContext()));
    return;
  }
  describe(name, () => {
    let server: MongoServer | undefined;
    let conn: Connection | undefined;
    const context: MongoTestContext = {
      connection: () => {
        if (!conn) throw new Error('the MongoDB connection is opened in beforeAll');
        return conn;
      },
      clear: async () => {
        await Promise.all(Object.values(defineModels(context.connection())).map((model) => model.deleteMany({}).exec()));
      },
    };

    beforeAll(async () => {
      server = await startMongo();
      if (!server) throw new Error('no MongoDB server available');
      conn = createMongo(server.uri, { connectTimeoutMs: CONNECT_TIMEOUT_MS, dbName: uniqueDatabaseName(name) });
      await waitForMongo(conn, CONNECT_TIMEOUT_MS);
      await ensureIndexes(conn);
    }, START_TIMEOUT_MS + 2 * CONNECT_TIMEOUT_MS);

    afterAll(async () => {
      if (conn) {
        await conn.dropDatabase().catch(() => {});
        await conn.close();
      }
      await server?.stop();
    }, 20_000);

    fn(context);
  });
}

function unavailableContext(): MongoTestContext {
  const unavailable = () => { throw new Error('MongoDB is not available'); };
  return { connection: unavailable, clear: async () => unavailable() };
}
