/**
 * Installing a shard snapshot on a replica, crash-safely and atomically for readers.
 *
 * 1. Staging — write(chunk): each verified chunk's entries go under the shard's staging
 *    prefix (engine space 0x10, see local-keys.ts), not into the shard's range, so readers
 *    keep seeing the old, consistent state. Large values go to the value log right away
 *    (the staged entry holds the pointer and counts as a live reference).
 * 2. Swap — finish(meta): the shard is marked installing (reads get NOT_READY), a marker
 *    holding `meta` is written with sync, then: clear the shard's range, copy every staged
 *    entry into it, and in one synced batch record the applied state, descriptor and conf
 *    state and delete the marker. Readers are let back in; the staging area is deleted.
 * 3. Recovery: Engine.open() finds a marker and redoes step 2 from the top (clearing and
 *    copying are idempotent because the staging area stays until the marker is gone);
 *    staging entries without a marker are leftovers of an abandoned install and deleted.
 */
import { assert, compareBytes, inRange, KvError, tableRange } from '@shoal/common';
import type { KeyRange, TableId } from '@shoal/common';
import { common, raft } from '@shoal/proto';
import { LiveDelta } from './core.js';
import type { EngineCore, ShardRuntime } from './core.js';
import { ShardKeyspace, rangesOverlap } from './keyspace.js';
import {
  appliedStateKey, confStateFromProto, descriptorKey, encodeAppliedState, encodeReplicaMeta, installMarkerKey,
  replicaMetaKey, stagedKey, stagedRange, storageKeyOfStaged,
} from './local-keys.js';
import { ChunkAssembler, decodeChunk, frameBytesMax } from './snapshot-chunk.js';
import { decodeStoredValue, encodePointerValue } from './stored-value.js';
import type { SnapshotInstaller, SnapshotMeta } from './types.js';
import { readU32, readU64, writeU32, writeU64 } from '../vlog/index.js';

/** What installing needs from the engine. */
export interface InstallHost {
  readonly core: EngineCore;
  /** Ranges of the node's other live shards (the old range is cleared only if it overlaps none). */
  otherRanges(shardId: number): KeyRange[];
  /** Persisted and swapped: adopt the new state in memory. */
  installed(sh: ShardRuntime, meta: SnapshotMeta, ks: ShardKeyspace): void;
  installerClosed(sh: ShardRuntime): void;
}

const COPY_KEYS_MAX = 256;

export class SnapshotInstallerImpl implements SnapshotInstaller {
  private state: 'staging' | 'swapping' | 'done' | 'aborted' = 'staging';
  private nextSeq = 0;
  private total = 0;
  private sawLast = false;
  private cleared = false;
  private readonly assembler: ChunkAssembler;

  constructor(private readonly host: InstallHost, private readonly sh: ShardRuntime) {
    this.assembler = new ChunkAssembler(frameBytesMax(host.core.opts.keyBytesMax, host.core.opts.valueBytesMax));
  }

  /** Takes the next bytes of the stream, cut anywhere; stages every frame they complete. */
  async write(data: Uint8Array): Promise<void> {
    assert(this.state === 'staging', () => `write() on a ${this.state} installer`);
    this.assembler.push(data);
    for (let frame = this.assembler.next(); frame !== undefined; frame = this.assembler.next()) await this.stage(frame);
  }

  private async stage(frame: Uint8Array): Promise<void> {
    const c = decodeChunk(frame);
    if (this.sawLast) throw new KvError('CORRUPTION', 'snapshot chunk after the last one');
    if (c.seq !== this.nextSeq) throw new KvError('CORRUPTION', `snapshot chunk ${c.seq} where ${this.nextSeq} was expected`);
    if (c.cumulative !== this.total + c.entries.length) throw new KvError('CORRUPTION', 'snapshot chunk count mismatch');
    await this.clearOnce();
    const core = this.host.core;
    const table = this.sh.table;
    const tableKs = new ShardKeyspace(table.tableId, table.partition, tableRangeOf(this.sh));
    const pin = core.pinAppends();
    try {
      await core.exclusive(async () => {
        const b = core.db.batch();
        const delta = new LiveDelta();
        let appended = false;
        for (const e of c.entries) {
          if (!tableKs.contains(e.key)) throw new KvError('CORRUPTION', 'snapshot entry outside the shard\'s table');
          let value = e.value;
          if (tableKs.userKeyOf(e.key) !== undefined) {
            const v = decodeStoredValue(e.value);
            if (v.storage !== 'inline') throw new KvError('CORRUPTION', 'snapshot entry holds a value-log pointer');
            const t = table.valueSeparationThresholdBytes;
            if (t > 0 && v.value.length >= t) {
              value = encodePointerValue(v.expireAtUnixMs, core.vlog.appendSync(e.key, v.value), v.type);
              appended = true;
              delta.add(decodeStoredValue(value));
            }
          }
          b.put(stagedKey(this.sh.state.descriptor.id, e.key), value);
        }
        if (appended && core.opts.valueLogSyncOnCommit) await core.vlog.syncAll();
        delta.writeTo(b, core.live);
        await core.write(b, false);
        delta.applyTo(core.live);
      });
    } finally {
      core.unpin(pin);
    }
    this.nextSeq++;
    this.total += c.entries.length;
    this.sawLast = c.last;
  }

  async finish(meta: SnapshotMeta): Promise<void> {
    assert(this.state === 'staging', () => `finish() on a ${this.state} installer`);
    if (!this.sawLast || this.assembler.pendingBytes > 0) throw new KvError('CORRUPTION', 'snapshot stream ended before its last chunk');
    const ks = ShardKeyspace.of(meta.descriptor, this.sh.table);
    if (meta.descriptor.id !== this.sh.state.descriptor.id) throw new KvError('INVALID_ARGUMENT', 'snapshot of another shard');
    if (this.host.otherRanges(meta.descriptor.id).some((r) => rangesOverlap(r, ks.range))) {
      throw new KvError('INVALID_ARGUMENT', 'the snapshot\'s range overlaps another shard on this node');
    }
    await this.clearOnce();
    await checkStagedWithin(this.host.core, this.sh.state.descriptor.id, ks.range);
    this.state = 'swapping';
    this.sh.installing = true;
    try {
      const core = this.host.core;
      await core.exclusive(async () => {
        const b = core.db.batch();
        b.put(installMarkerKey(this.sh.state.descriptor.id), encodeInstallMarker(meta));
        await core.write(b, true);
      });
      if (core.opts.failpoints.installStopAfterMarker?.() === true) {
        throw new KvError('INTERNAL', 'failpoint: install stopped after its marker');
      }
      await swapInstalled(this.host, this.sh, meta);
      this.state = 'done';
    } finally {
      this.host.installerClosed(this.sh);
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'staging') return; // after the marker, recovery finishes the install
    this.state = 'aborted';
    try {
      await this.host.core.deleteRangeChunked(stagedRange(this.sh.state.descriptor.id), stagedIsStored(this.sh));
    } finally {
      this.host.installerClosed(this.sh);
    }
  }

  /** A previous, abandoned install may have left staged entries: drop them before staging. */
  private async clearOnce(): Promise<void> {
    if (this.cleared) return;
    this.cleared = true;
    await this.host.core.deleteRangeChunked(stagedRange(this.sh.state.descriptor.id), stagedIsStored(this.sh));
  }
}

function tableRangeOf(sh: ShardRuntime): KeyRange {
  return tableRange(sh.table.tableId as TableId);
}

/** Staged entries hold stored values exactly when their storage key is a data key. */
export function stagedIsStored(sh: ShardRuntime): (key: Uint8Array) => boolean {
  const t = sh.table;
  const tableKs = new ShardKeyspace(t.tableId, t.partition, tableRangeOf(sh));
  return (key) => tableKs.userKeyOf(storageKeyOfStaged(key)) !== undefined;
}

async function checkStagedWithin(core: EngineCore, shardId: number, range: KeyRange): Promise<void> {
  const staged = stagedRange(shardId);
  for (const reverse of [false, true]) {
    const it = core.db.keys({ gte: staged.start, lt: staged.end, reverse, limit: 1 });
    try {
      const k = await it.next();
      if (k !== undefined && !inRange(storageKeyOfStaged(k), range)) {
        throw new KvError('CORRUPTION', `snapshot of shard ${shardId} holds keys outside its descriptor's range`);
      }
    } finally {
      await it.close();
    }
  }
}

/**
 * Step 2 of the file comment, from the top. The marker for `meta` must be persisted and
 * `sh.installing` set. Used by finish() and by recovery at open.
 */
export async function swapInstalled(host: InstallHost, sh: ShardRuntime, meta: SnapshotMeta): Promise<void> {
  assert(sh.installing, 'swap without the installing flag');
  const core = host.core;
  const shardId = sh.state.descriptor.id;
  const ks = ShardKeyspace.of(meta.descriptor, sh.table);
  const isData = (k: Uint8Array): boolean => ks.userKeyOf(k) !== undefined;
  await core.deleteRangeChunked(ks.range, isData);
  const old = sh.ks.range;
  const oldDiffers = compareBytes(old.start, ks.range.start) !== 0 || compareBytes(old.end, ks.range.end) !== 0;
  if (oldDiffers && !host.otherRanges(shardId).some((r) => rangesOverlap(r, old))) {
    await core.deleteRangeChunked(old, (k) => sh.ks.userKeyOf(k) !== undefined);
  }
  await copyStaged(core, shardId, isData);
  await core.exclusive(async () => {
    const b = core.db.batch();
    b.put(appliedStateKey(shardId), encodeAppliedState(meta.index, meta.term));
    b.put(descriptorKey(shardId), common.ShardDescriptor.encode(meta.descriptor).finish());
    b.put(replicaMetaKey(shardId), encodeReplicaMeta({ peerId: sh.state.peerId, tombstone: false, removing: false, confState: meta.confState }));
    b.del(installMarkerKey(shardId));
    await core.write(b, true);
  });
  host.installed(sh, meta, ks);
  await core.deleteRangeChunked(stagedRange(shardId), (k) => isData(storageKeyOfStaged(k)));
}

async function copyStaged(core: EngineCore, shardId: number, isData: (k: Uint8Array) => boolean): Promise<void> {
  const staged = stagedRange(shardId);
  const it = core.db.iterator({ gte: staged.start, lt: staged.end });
  try {
    for (;;) {
      const entries = await it.nextv(COPY_KEYS_MAX);
      if (entries.length === 0) break;
      await core.exclusive(async () => {
        const b = core.db.batch();
        const delta = new LiveDelta();
        for (const [k, v] of entries) {
          const key = storageKeyOfStaged(k);
          if (isData(key)) {
            const prev = core.db.getSync(key);
            if (prev !== undefined) delta.sub(decodeStoredValue(prev));
            delta.add(decodeStoredValue(v));
          }
          b.put(key, v);
        }
        delta.writeTo(b, core.live);
        await core.write(b, false);
        delta.applyTo(core.live);
      });
    }
  } finally {
    await it.close();
  }
}

// ---------------------------------------------------------------------------------------
// The marker: `version u8 | index u64 | term u64 | confStateLength u32 | shoal.raft.ConfState | shoal.common.ShardDescriptor`.

const MARKER_VERSION = 1;

export function encodeInstallMarker(meta: SnapshotMeta): Uint8Array {
  const cs = raft.ConfState.encode(raft.ConfState.create(meta.confState)).finish();
  const desc = common.ShardDescriptor.encode(meta.descriptor).finish();
  const out = new Uint8Array(21 + cs.length + desc.length);
  out[0] = MARKER_VERSION;
  writeU64(out, 1, meta.index);
  writeU64(out, 9, meta.term);
  writeU32(out, 17, cs.length);
  out.set(cs, 21);
  out.set(desc, 21 + cs.length);
  return out;
}

export function decodeInstallMarker(buf: Uint8Array): SnapshotMeta {
  if (buf.length < 21 || buf[0] !== MARKER_VERSION) throw new KvError('CORRUPTION', 'malformed install marker');
  const csLength = readU32(buf, 17);
  if (21 + csLength > buf.length) throw new KvError('CORRUPTION', 'malformed install marker');
  return {
    index: readU64(buf, 1),
    term: readU64(buf, 9),
    confState: confStateFromProto(raft.ConfState.decode(buf.subarray(21, 21 + csLength))),
    descriptor: common.ShardDescriptor.decode(buf.subarray(21 + csLength)),
  };
}
