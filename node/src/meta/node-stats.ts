/**
 * The node's NodeStats for NodeHeartbeat: capacity and disk use, replica and leader
 * counts, CPU load, key rates, snapshot transfers, uptime.
 *
 * - capacity: `capacityBytes` from the config, else the data dir's filesystem size
 *   (statfs); available: the filesystem's free bytes for unprivileged users, capped by
 *   what the capacity leaves.
 * - used: the bytes of the files under dataDir, from a walk of at most WALK_ENTRIES_MAX
 *   entries, redone at most every USED_BYTES_CACHE_MS (a LevelDB dir holds thousands of
 *   files; a walk per heartbeat would be wasted work).
 * - rates: deltas of counters (committed proposals, reads served) between two samples.
 */
import { readdirSync, statfsSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { meta } from '@shoal/proto';

/** Directory entries visited when measuring used bytes. */
const WALK_ENTRIES_MAX = 200_000;
const USED_BYTES_CACHE_MS = 10_000;

export interface NodeStatsInputs {
  readonly dataDir: string;
  /** 0 = the filesystem's size. */
  readonly capacityBytes: number;
  readonly startedAtMs: number;
  readonly counts: () => { replicas: number; leaders: number; receivingSnapshots: number };
  /** Monotonic counters; their rates are reported. */
  readonly writes: () => number;
  readonly reads: () => Promise<number>;
}

export class NodeStatsSource {
  private usedBytes = 0;
  private usedAtMs = Number.NEGATIVE_INFINITY;
  private last: { atMs: number; writes: number; reads: number } | null = null;

  constructor(private readonly o: NodeStatsInputs) {}

  async sample(nowMs: number): Promise<meta.NodeStats> {
    const fs = statfsSync(this.o.dataDir);
    const capacityBytes = this.o.capacityBytes > 0 ? this.o.capacityBytes : fs.blocks * fs.bsize;
    if (nowMs - this.usedAtMs >= USED_BYTES_CACHE_MS) {
      this.usedBytes = directoryBytes(this.o.dataDir);
      this.usedAtMs = nowMs;
    }
    const availableBytes = Math.max(0, Math.min(fs.bavail * fs.bsize, capacityBytes - this.usedBytes));
    const writes = this.o.writes();
    const reads = await this.o.reads();
    const prev = this.last;
    this.last = { atMs: nowMs, writes, reads };
    const sec = prev === null ? 0 : (nowMs - prev.atMs) / 1000;
    const rate = (now: number, before: number): number => (sec > 0 ? Math.round(Math.max(0, now - before) / sec) : 0);
    const c = this.o.counts();
    return meta.NodeStats.create({
      capacityBytes, usedBytes: this.usedBytes, availableBytes,
      replicaCount: c.replicas, leaderCount: c.leaders, receivingSnapshotCount: c.receivingSnapshots,
      cpuLoad: (loadavg()[0] ?? 0) / Math.max(1, cpus().length),
      writeKeysPerSec: prev === null ? 0 : rate(writes, prev.writes),
      readKeysPerSec: prev === null ? 0 : rate(reads, prev.reads),
      uptimeMs: Math.max(0, nowMs - this.o.startedAtMs),
    });
  }
}

/** The capacity to report: configured (> 0), else the size of dataDir's filesystem. */
export function capacityOf(dataDir: string, capacityBytes: number): number {
  if (capacityBytes > 0) return capacityBytes;
  const fs = statfsSync(dataDir);
  return fs.blocks * fs.bsize;
}

/** Bytes of the regular files under `dir` (bounded walk; unreadable entries are skipped). */
export function directoryBytes(dir: string): number {
  let total = 0;
  let visited = 0;
  const stack = [dir];
  while (stack.length > 0 && visited < WALK_ENTRIES_MAX) {
    const d = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue; // removed while we walk (compaction, segment GC)
    }
    for (const e of entries) {
      if (++visited > WALK_ENTRIES_MAX) break;
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        try {
          total += statSync(p).size;
        } catch {
          // gone since readdir
        }
      }
    }
  }
  return total;
}
