/**
 * A consistent image of one shard for Raft snapshots: taken synchronously with a
 * classic-level explicit snapshot, so the data, the applied state and the descriptor are
 * from the same instant. `chunks()` streams the shard's range with value-log values resolved
 * (and verified) — value-log files are node-local, so a snapshot ships values, not pointers.
 * The open snapshot is a registered reader: GC defers deleting any file it may still need.
 */
import { assert, KvError } from '@shoal/common';
import { common } from '@shoal/proto';
import type { ConfState } from '@shoal/raft-ts';
import type { DbSnapshot, EngineCore, ShardRuntime } from './core.js';
import type { ShardKeyspace } from './keyspace.js';
import {
  appliedStateKey, decodeAppliedState, decodeReplicaMeta, descriptorKey, replicaMetaKey,
} from './local-keys.js';
import { CHUNK_BYTES_MAX, ChunkBuilder } from './snapshot-chunk.js';
import { decodeStoredValue, encodeInline } from './stored-value.js';
import type { EngineSnapshot } from './types.js';

export class EngineSnapshotImpl implements EngineSnapshot {
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly confState: ConfState;
  readonly descriptor: common.ShardDescriptor;
  private readonly ks: ShardKeyspace;
  private closed = false;
  private streaming = false;

  private constructor(
    private readonly core: EngineCore,
    sh: ShardRuntime,
    private readonly snapshot: DbSnapshot,
    private readonly reader: number,
  ) {
    const shardId = sh.state.descriptor.id;
    const applied = core.db.getSync(appliedStateKey(shardId), { snapshot });
    const desc = core.db.getSync(descriptorKey(shardId), { snapshot });
    const meta = core.db.getSync(replicaMetaKey(shardId), { snapshot });
    if (desc === undefined || meta === undefined) throw new KvError('CORRUPTION', `shard ${shardId}: local state missing`);
    const a = applied === undefined ? { index: 0, term: 0 } : decodeAppliedState(applied);
    this.appliedIndex = a.index;
    this.appliedTerm = a.term;
    this.confState = decodeReplicaMeta(meta).confState;
    this.descriptor = common.ShardDescriptor.decode(desc);
    // The descriptor only changes by install (not possible while readable) or a future split
    // command; the in-memory keyspace is the one of the persisted descriptor.
    this.ks = sh.ks;
  }

  static open(core: EngineCore, sh: ShardRuntime): EngineSnapshotImpl {
    const snapshot = core.db.snapshot();
    const reader = core.acquireReader();
    try {
      return new EngineSnapshotImpl(core, sh, snapshot, reader);
    } catch (e) {
      core.releaseReader(reader);
      void snapshot.close();
      throw e;
    }
  }

  async *chunks(chunkBytes: number): AsyncGenerator<Uint8Array> {
    assert(!this.closed, 'chunks() of a closed snapshot');
    assert(!this.streaming, 'chunks() is already being iterated');
    assert(Number.isSafeInteger(chunkBytes) && chunkBytes > 0 && chunkBytes <= CHUNK_BYTES_MAX, () => `chunkBytes ${chunkBytes} not in (0, ${CHUNK_BYTES_MAX}]`);
    this.streaming = true;
    const it = this.core.db.iterator({ gte: this.ks.range.start, lt: this.ks.range.end, snapshot: this.snapshot });
    let seq = 0;
    let total = 0;
    let cur = new ChunkBuilder();
    let full: ChunkBuilder | undefined;
    try {
      for (;;) {
        const entries = await it.nextv(256);
        if (entries.length === 0) break;
        for (const [k, v] of entries) {
          if (full !== undefined) {
            total += full.entries.length;
            yield full.encode(seq++, false, total);
            full = undefined;
          }
          cur.add(k, await this.shippable(k, v));
          if (cur.bytes >= chunkBytes) {
            full = cur;
            cur = new ChunkBuilder();
          }
        }
      }
      if (full !== undefined && cur.entries.length === 0) {
        cur = full;
      } else if (full !== undefined) {
        total += full.entries.length;
        yield full.encode(seq++, false, total);
      }
      total += cur.entries.length;
      yield cur.encode(seq++, true, total);
    } finally {
      this.streaming = false;
      await it.close();
    }
  }

  /** The value as shipped: data keys' pointers resolved into inline stored values. */
  private async shippable(key: Uint8Array, raw: Uint8Array): Promise<Uint8Array> {
    if (this.ks.userKeyOf(key) === undefined) return raw;
    const v = decodeStoredValue(raw);
    if (v.storage === 'inline') return raw;
    return encodeInline(v.expireAtUnixMs, await this.core.resolve(key, v), v.type);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.snapshot.close();
    this.core.releaseReader(this.reader);
  }
}
