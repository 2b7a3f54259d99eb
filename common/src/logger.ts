/**
 * Structured logging: pino, writing one JSON object per line.
 *
 * Every line carries `process` (metaserver, node, proxy, …) and, when known, `nodeId`, so
 * logs of a whole cluster can be merged and filtered. Timestamps are ISO-8601 (`time`) and
 * levels are names (`"level":"info"`), readable without tooling. Errors go under `err`,
 * serialized with their `code`, `details` and `cause`.
 *
 * Components take a child logger: `log.child({ component: 'raft', shardId })`.
 */
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { LogLevel } from './config-schemas.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** The process name, logged as `process` on every line. */
  readonly name: string;
  readonly level: LogLevel;
  /** The node id of a storage node or metaserver member, logged as `nodeId`. */
  readonly nodeId?: number | undefined;
  /** Write to this file (appending; parent directories are created) instead of stdout. */
  readonly file?: string | undefined;
  /**
   * Synchronous writes (default true): every line reaches the OS before the call returns,
   * so nothing is lost when the process crashes — the lines before a crash matter most.
   * Set false for buffered, faster logging where that loss is acceptable.
   */
  readonly sync?: boolean;
  /** Write here instead (tests, or a custom transport). Overrides `file`. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base: Record<string, unknown> = { process: options.name, pid: process.pid, hostname: hostname() };
  if (options.nodeId !== undefined) base['nodeId'] = options.nodeId;
  return pino(
    {
      level: options.level,
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    options.destination ?? openDestination(options),
  );
}

function openDestination(options: LoggerOptions): DestinationStream {
  const sync = options.sync ?? true;
  if (options.file === undefined) return pino.destination({ dest: 1, sync });
  mkdirSync(dirname(options.file), { recursive: true });
  return pino.destination({ dest: options.file, sync, append: true });
}
