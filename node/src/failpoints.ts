/**
 * Fault injection for chaos tests (test/chaos, docs/reliability.md). Only active when the
 * node's config says `failpointsEnabled: true`; a production node never builds one, so
 * none of this can fire there.
 *
 * Failpoints of one node (a spec is a comma-separated list of them):
 *   drop-to=2+3     Raft messages and snapshots this node sends to nodes 2 and 3 are dropped
 *   drop-from=2     Raft messages arriving from node 2 are dropped (with drop-to: a full cut;
 *                   alone: one-way loss)
 *   wal-fsync-error every WAL fdatasync fails with EIO (fatal: the node stops with DISK_FAILURE)
 *   wal-write-error every WAL write fails with EIO (fatal likewise)
 *   clock-skew-ms=N this process's wall clock (Date.now) runs N ms ahead (negative: behind);
 *                   the monotonic clock (performance.now, used by Raft ticks and leases) is
 *                   left alone, as libfaketime's FAKETIME_DONT_FAKE_MONOTONIC does
 *
 * Network partitions are node-level because network namespaces and iptables need root,
 * which CI does not have. Set at start with config `failpoints` (`SHOAL_FAILPOINTS`), or at
 * run time over the node's HTTP port (GET, since the shared HTTP server only routes GET):
 *   GET /failpoints                  → the current spec as JSON
 *   GET /failpoints?set=<spec>       → replaces every failpoint (empty spec: heals all)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KvError } from '@shoal/common';

/** Largest clock skew accepted: a day is far beyond any real NTP step. */
export const CLOCK_SKEW_MS_MAX = 86_400_000;
/** Node ids one spec may name: a chaos cluster is small. */
const DROP_NODES_MAX = 64;

export interface FailpointState {
  readonly dropTo: readonly number[];
  readonly dropFrom: readonly number[];
  readonly walFsyncError: boolean;
  readonly walWriteError: boolean;
  readonly clockSkewMs: number;
}

const HEALED: FailpointState = { dropTo: [], dropFrom: [], walFsyncError: false, walWriteError: false, clockSkewMs: 0 };

function bad(spec: string, message: string): never {
  throw new KvError('CONFIG_INVALID', `failpoints "${spec}": ${message}`, { details: { option: 'failpoints' } });
}

function nodeIds(spec: string, name: string, value: string | undefined): number[] {
  if (value === undefined || value === '') bad(spec, `${name} needs node ids, e.g. ${name}=2+3`);
  const ids = value.split('+').map((s) => Number(s));
  if (ids.length > DROP_NODES_MAX) bad(spec, `${name} names more than ${DROP_NODES_MAX} nodes`);
  for (const id of ids) if (!Number.isSafeInteger(id) || id < 1) bad(spec, `${name}: node ids must be positive integers, got "${value}"`);
  return ids;
}

/** Parses a spec (see the file comment); an empty string heals everything. */
export function parseFailpoints(spec: string): FailpointState {
  const out = { ...HEALED, dropTo: [] as number[], dropFrom: [] as number[] };
  for (const part of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? undefined : part.slice(eq + 1);
    switch (name) {
      case 'drop-to': out.dropTo = nodeIds(spec, name, value); break;
      case 'drop-from': out.dropFrom = nodeIds(spec, name, value); break;
      case 'wal-fsync-error': out.walFsyncError = true; break;
      case 'wal-write-error': out.walWriteError = true; break;
      case 'clock-skew-ms': {
        const n = Number(value);
        if (value === undefined || !Number.isSafeInteger(n) || Math.abs(n) > CLOCK_SKEW_MS_MAX) {
          bad(spec, `clock-skew-ms must be an integer within ±${CLOCK_SKEW_MS_MAX}`);
        }
        out.clockSkewMs = n;
        break;
      }
      default:
        bad(spec, `unknown failpoint "${name}" (known: drop-to, drop-from, wal-fsync-error, wal-write-error, clock-skew-ms)`);
    }
  }
  return out;
}

export function formatFailpoints(s: FailpointState): string {
  const parts: string[] = [];
  if (s.dropTo.length > 0) parts.push(`drop-to=${s.dropTo.join('+')}`);
  if (s.dropFrom.length > 0) parts.push(`drop-from=${s.dropFrom.join('+')}`);
  if (s.walFsyncError) parts.push('wal-fsync-error');
  if (s.walWriteError) parts.push('wal-write-error');
  if (s.clockSkewMs !== 0) parts.push(`clock-skew-ms=${s.clockSkewMs}`);
  return parts.join(',');
}

export class Failpoints {
  private state: FailpointState = HEALED;
  private dropToSet = new Set<number>();
  private dropFromSet = new Set<number>();
  private realNow: (() => number) | undefined;

  constructor(spec = '') {
    this.set(spec);
  }

  get current(): FailpointState {
    return this.state;
  }

  /** Replaces every failpoint with `spec`; throws CONFIG_INVALID (nothing changed) on a bad one. */
  set(spec: string): void {
    const s = parseFailpoints(spec);
    this.state = s;
    this.dropToSet = new Set(s.dropTo);
    this.dropFromSet = new Set(s.dropFrom);
    if (s.clockSkewMs !== 0 && this.realNow === undefined) {
      // Patched once, then reads the current skew: the process has one wall clock.
      const realNow = Date.now.bind(Date);
      this.realNow = realNow;
      Date.now = () => realNow() + this.state.clockSkewMs;
    }
  }

  dropsTo(nodeId: number): boolean {
    return this.dropToSet.has(nodeId);
  }

  dropsFrom(nodeId: number): boolean {
    return this.dropFromSet.has(nodeId);
  }

  /** The WAL's hooks (wal/options.ts WalFailpoints). */
  wal(): { fsyncError: () => boolean; writeError: () => boolean } {
    return { fsyncError: () => this.state.walFsyncError, writeError: () => this.state.walWriteError };
  }

  /** GET /failpoints[?set=<spec>]: answers the (new) spec as JSON; 400 naming the problem on a bad spec. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const set = new URL(req.url ?? '/', 'http://localhost').searchParams.get('set');
    if (set !== null) {
      try {
        this.set(set);
      } catch (e) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (e as Error).message }));
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ failpoints: formatFailpoints(this.state), ...this.state }));
  }
}
