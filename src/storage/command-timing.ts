/**
 * Round-trip timing of store commands, for the metrics endpoint (`portcullis_store_command_duration_seconds`).
 * Redis: every command goes through the client's `sendCommand` (pipelines and MULTI too, command by command), so
 * one wrapper sees them all without touching the stores. MongoDB: the driver's command monitoring events
 * (`monitorCommands`), which carry the server round trip's duration.
 */
import type { Connection } from 'mongoose';

export type StoreCommandListener = (store: 'redis' | 'mongodb', seconds: number, ok: boolean) => void;

/** Listeners registered after the stores are open (the metrics are built later, by the composition root). */
export class StoreCommandTiming {
  private readonly listeners: StoreCommandListener[] = [];

  on(listener: StoreCommandListener): void {
    this.listeners.push(listener);
  }

  emit(store: 'redis' | 'mongodb', seconds: number, ok: boolean): void {
    for (const listener of this.listeners) listener(store, seconds, ok);
  }

  get observed(): boolean {
    return this.listeners.length > 0;
  }
}

interface TimedCommand {
  promise: Promise<unknown>;
}

/** Wraps a Redis or Cluster client's `sendCommand`; costs nothing while nobody listens. */
export function timeRedisCommands(client: { sendCommand: (...args: never[]) => unknown }, timing: StoreCommandTiming): void {
  const send = client.sendCommand.bind(client) as (command: TimedCommand, ...rest: unknown[]) => unknown;
  (client as { sendCommand: unknown }).sendCommand = (command: TimedCommand, ...rest: unknown[]) => {
    if (timing.observed && command?.promise) {
      const started = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
      command.promise.then(() => timing.emit('redis', seconds(), true), () => timing.emit('redis', seconds(), false));
    }
    return send(command, ...rest);
  };
}

/** Needs the connection opened with `monitorCommands: true`. */
export function timeMongoCommands(conn: Connection, timing: StoreCommandTiming): void {
  const client = conn.getClient();
  client.on('commandSucceeded', (event: { duration: number }) => timing.emit('mongodb', event.duration / 1000, true));
  client.on('commandFailed', (event: { duration: number }) => timing.emit('mongodb', event.duration / 1000, false));
}
