/**
 * The background sweeper of old collection versions' subkeys, on a node: every
 * `intervalMs`, each shard this node leads gets at most one `sweepOnce` step (at most
 * `rangesPerStep` stale ranges deleted in one proposal, at most `examinedPerStep` storage
 * entries walked), resuming from its own cursor. So the work per interval is bounded per
 * shard, goes through Raft like any write, and never queues behind clients (sweepOnce
 * skips busy keys).
 *
 * The caller supplies the shards it leads right now (`shards()`); a shard that stops being
 * listed loses its cursor (a new leader starts from the shard's beginning — the walk is
 * idempotent). Errors of one shard's step (leadership lost, a proposal dropped) are
 * reported to `onError` and the loop goes on.
 */
import { KvError } from '@shoal/common';
import type { ShardInfo } from './encoding.js';
import type { LatchManager } from './latches.js';
import { sweepOnce } from './sweeper.js';
import type { SweepHost } from './sweeper.js';

export interface SweepShard {
  readonly shardId: number;
  readonly shard: ShardInfo;
  readonly host: SweepHost;
}

export interface SweepLoopOptions {
  readonly intervalMs: number;
  readonly rangesPerStep: number;
  readonly examinedPerStep: number;
}

export const DEFAULT_SWEEP_LOOP: SweepLoopOptions = { intervalMs: 1000, rangesPerStep: 64, examinedPerStep: 10_000 };

export class SubkeySweepLoop {
  private readonly cursors = new Map<number, Uint8Array | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Stale ranges deleted since start (for tests and logs). */
  deletedTotal = 0;

  constructor(
    private readonly latches: LatchManager,
    private readonly shards: () => Iterable<SweepShard>,
    private readonly o: SweepLoopOptions = DEFAULT_SWEEP_LOOP,
    private readonly onError: (shardId: number, e: unknown) => void = () => undefined,
  ) {
    for (const k of ['intervalMs', 'rangesPerStep', 'examinedPerStep'] as const) {
      if (!Number.isSafeInteger(o[k]) || o[k] < 1) throw new KvError('CONFIG_INVALID', `subkey sweep ${k} must be a positive integer`, { details: { option: k } });
    }
  }

  /** One pass over the led shards; resolves with the ranges deleted. */
  async step(): Promise<number> {
    let deleted = 0;
    const seen = new Set<number>();
    let list: SweepShard[];
    try {
      list = [...this.shards()];
    } catch (e) {
      this.onError(0, e);
      return 0;
    }
    for (const s of list) {
      if (this.stopped) break;
      seen.add(s.shardId);
      try {
        const r = await sweepOnce(s.host, this.latches, s.shard, {
          limit: this.o.rangesPerStep, examinedMax: this.o.examinedPerStep, cursor: this.cursors.get(s.shardId),
        });
        this.cursors.set(s.shardId, r.cursor);
        deleted += r.deleted;
      } catch (e) {
        this.onError(s.shardId, e);
      }
    }
    for (const id of [...this.cursors.keys()]) if (!seen.has(id)) this.cursors.delete(id);
    this.deletedTotal += deleted;
    return deleted;
  }

  /** Runs `step` every intervalMs (the timer does not keep the process alive). */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    const again = (): void => {
      this.timer = setTimeout(() => {
        void this.step().finally(() => { if (!this.stopped) again(); });
      }, this.o.intervalMs);
      this.timer.unref();
    };
    again();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
