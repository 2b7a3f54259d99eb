/**
 * The application state machine of the simulation: a tiny KV store of `KEYS_COUNT` keys
 * whose values are write ids, plus a chained digest of everything applied. It encodes its
 * commands (the payload of Normal entries) and its snapshots.
 *
 * Command format: [op][key][writeId: u32 LE][padding…]. Writes are unique (writeId), so a
 * read's observed value names exactly which write it saw.
 */
import { EntryType } from '@shoal/raft-ts';
import type { Entry } from '@shoal/raft-ts';
import { chainDigest, DIGEST_EMPTY, entryHash } from './digest.js';
import type { WriteFacts } from './checker.js';

export const KEYS_COUNT = 8;
const OP_PUT = 1;
const OP_PROBE = 2;
const COMMAND_HEADER_BYTES = 6;
const SNAPSHOT_MAGIC = 0x4b56534e; // "KVSN"
const SNAPSHOT_BYTES = 16 + 4 * KEYS_COUNT;

export function encodePut(key: number, writeId: number, payloadBytes: number): Uint8Array {
  return encodeCommand(OP_PUT, key, writeId, payloadBytes);
}

/** A liveness probe: a no-op command whose commit proves the group makes progress. */
export function encodeProbe(probeId: number): Uint8Array {
  return encodeCommand(OP_PROBE, 0, probeId, COMMAND_HEADER_BYTES);
}

function encodeCommand(op: number, key: number, id: number, payloadBytes: number): Uint8Array {
  if (key < 0 || key >= KEYS_COUNT) throw new Error(`kv-app: key ${key} out of range`);
  const b = new Uint8Array(Math.max(COMMAND_HEADER_BYTES, payloadBytes));
  b[0] = op;
  b[1] = key;
  new DataView(b.buffer).setUint32(2, id >>> 0, true);
  for (let i = COMMAND_HEADER_BYTES; i < b.length; i++) b[i] = (id + i) & 0xff;
  return b;
}

/** The probe id carried by an entry, or null if it is not a probe. */
export function probeIdOf(e: Entry): number | null {
  if (e.type !== EntryType.Normal || e.data.length < COMMAND_HEADER_BYTES || e.data[0] !== OP_PROBE) return null;
  return new DataView(e.data.buffer, e.data.byteOffset, e.data.byteLength).getUint32(2, true);
}

function decodePut(data: Uint8Array): WriteFacts | null {
  if (data.length < COMMAND_HEADER_BYTES || data[0] !== OP_PUT) return null;
  const key = data[1]!;
  if (key >= KEYS_COUNT) throw new Error(`kv-app: corrupt put (key ${key})`);
  return { key, writeId: new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(2, true) };
}

export class KvApp {
  private readonly values = new Array<number>(KEYS_COUNT).fill(0);
  /** Invariant: `digest` is the chained digest of entries 1..appliedIndex. */
  appliedIndex = 0;
  appliedTerm = 0;
  digest = DIGEST_EMPTY;

  /** Applies one committed entry (any type: ConfChange entries only move the digest). */
  apply(e: Entry, hash = entryHash(e)): WriteFacts | null {
    if (e.index !== this.appliedIndex + 1) {
      throw new Error(`kv-app: apply ${e.index} after ${this.appliedIndex}`);
    }
    this.appliedIndex = e.index;
    this.appliedTerm = e.term;
    this.digest = chainDigest(this.digest, e.index, e.term, hash);
    if (e.type !== EntryType.Normal) return null;
    const w = decodePut(e.data);
    if (w !== null) this.values[w.key] = w.writeId;
    return w;
  }

  get(key: number): number {
    return this.values[key] ?? 0;
  }

  encodeSnapshot(): Uint8Array {
    const b = new Uint8Array(SNAPSHOT_BYTES);
    const v = new DataView(b.buffer);
    v.setUint32(0, SNAPSHOT_MAGIC, true);
    v.setUint32(4, this.appliedIndex, true);
    v.setUint32(8, this.appliedTerm, true);
    v.setUint32(12, this.digest, true);
    for (let k = 0; k < KEYS_COUNT; k++) v.setUint32(16 + 4 * k, this.values[k]!, true);
    return b;
  }

  /**
   * Replaces the state with a snapshot's; checks its framing (checksum on read). Empty data
   * is the bootstrap snapshot at index 0 (the empty state), which raft-ts sends to a
   * joiner when the log was never compacted.
   */
  restore(data: Uint8Array): void {
    if (data.length === 0) {
      this.values.fill(0);
      this.appliedIndex = 0;
      this.appliedTerm = 0;
      this.digest = DIGEST_EMPTY;
      return;
    }
    if (data.length !== SNAPSHOT_BYTES) throw new Error(`kv-app: snapshot of ${data.length} bytes`);
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (v.getUint32(0, true) !== SNAPSHOT_MAGIC) throw new Error('kv-app: snapshot magic mismatch');
    this.appliedIndex = v.getUint32(4, true);
    this.appliedTerm = v.getUint32(8, true);
    this.digest = v.getUint32(12, true);
    for (let k = 0; k < KEYS_COUNT; k++) this.values[k] = v.getUint32(16 + 4 * k, true);
  }

  /** Index recorded inside snapshot data, to compare with the snapshot's metadata. */
  static snapshotIndex(data: Uint8Array): number {
    if (data.length === 0) return 0;
    if (data.length !== SNAPSHOT_BYTES) return -1;
    return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(4, true);
  }
}
