/**
 * SLOWLOG: the most recent commands slower than `slowlog-log-slower-than` microseconds,
 * newest first, at most `slowlog-max-len` of them, stored as Redis stores them (at most
 * 32 arguments, each cut to 128 bytes, with a note of what was cut). A proxy's duration
 * is the time from the command's dispatch to its reply, backend round trips included.
 */
import { array, bulk, integer } from './resp/reply.js';
import type { Reply } from './resp/reply.js';

const ARGS_MAX = 32;
const ARG_BYTES_MAX = 128;

export interface SlowlogEntry {
  readonly id: number;
  readonly timestampSec: number;
  readonly durationUs: number;
  readonly args: readonly Buffer[];
  readonly addr: string;
  readonly name: string;
}

export class Slowlog {
  private entries: SlowlogEntry[] = [];
  private nextId = 0;

  /** Records a command if it is slow enough; `slowerThanUs` < 0 disables the log. */
  record(argv: readonly Buffer[], durationUs: number, nowMs: number, client: { addr: string; name: string },
    slowerThanUs: number, maxLen: number): void {
    if (slowerThanUs < 0 || durationUs < slowerThanUs) return;
    this.entries.unshift({
      id: this.nextId++,
      timestampSec: Math.floor(nowMs / 1000),
      durationUs: Math.floor(durationUs),
      args: copyArgs(argv),
      addr: client.addr,
      name: client.name,
    });
    this.trim(maxLen);
  }

  trim(maxLen: number): void {
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }

  get length(): number {
    return this.entries.length;
  }

  reset(): void {
    this.entries = [];
  }

  /** SLOWLOG GET: the newest `count` entries (all when count is -1). */
  get(count: number): Reply {
    const chosen = count < 0 ? this.entries : this.entries.slice(0, count);
    return array(chosen.map((e) => array([
      integer(e.id), integer(e.timestampSec), integer(e.durationUs),
      array(e.args.map((a) => bulk(a))), bulk(e.addr), bulk(e.name),
    ])));
  }
}

function copyArgs(argv: readonly Buffer[]): Buffer[] {
  const shown = argv.length > ARGS_MAX ? ARGS_MAX - 1 : argv.length;
  const out: Buffer[] = [];
  for (let i = 0; i < shown; i++) {
    const a = argv[i]!;
    out.push(a.length > ARG_BYTES_MAX
      ? Buffer.concat([a.subarray(0, ARG_BYTES_MAX), Buffer.from(`... (${a.length - ARG_BYTES_MAX} more bytes)`)])
      : Buffer.from(a));
  }
  if (shown < argv.length) out.push(Buffer.from(`... (${argv.length - shown} more arguments)`));
  return out;
}
