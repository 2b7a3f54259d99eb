/**
 * The batch being staged: records are encoded in place into a few large chunks (usually
 * one), so a flush is a single `writev` of those chunks — no per-record buffers and no
 * concatenation copy. A chunk never splits a record. The first chunk is sized from the
 * previous batch, so a steady workload allocates one buffer per flush.
 */
import { assert } from '@shoal/common';
import type { StagedRecord } from './group.js';

const CHUNK_BYTES_MIN = 64 * 1024;
/** Chunks grow by doubling up to this size; a bigger record gets a chunk of its own size. */
const CHUNK_BYTES_MAX = 64 * 1024 * 1024;

export class BatchBuilder {
  readonly records: StagedRecord[] = [];
  private readonly chunks: Buffer[] = [];
  /** Empty until the first reservation, so an idle batch allocates nothing. */
  private chunk: Buffer = Buffer.alloc(0);
  private used = 0;
  /** Bytes in the chunks before the current one. */
  private sealedBytes = 0;

  constructor(readonly seq: number, private readonly capacityHintBytes: number) {}

  get bytes(): number {
    return this.sealedBytes + this.used;
  }

  isEmpty(): boolean {
    return this.records.length === 0;
  }

  /**
   * Reserves `n` contiguous bytes; write them through `buffer` at `position`. Returns the
   * batch offset of the reservation.
   */
  reserve(n: number): { buffer: Buffer; position: number; batchOffset: number } {
    assert(n > 0, 'empty reservation');
    if (this.chunk.length - this.used < n) {
      if (this.used > 0) {
        this.chunks.push(this.chunk.subarray(0, this.used));
        this.sealedBytes += this.used;
      }
      const next = this.chunk.length === 0 ? this.capacityHintBytes : this.chunk.length * 2;
      this.chunk = Buffer.allocUnsafe(Math.max(n, clampChunk(next)));
      this.used = 0;
    }
    const position = this.used;
    this.used += n;
    return { buffer: this.chunk, position, batchOffset: this.sealedBytes + position };
  }

  /** The encoded bytes, in order, for one writev. The builder is done after this. */
  parts(): Buffer[] {
    const out = this.chunks.slice();
    if (this.used > 0) out.push(this.chunk.subarray(0, this.used));
    return out;
  }
}

function clampChunk(n: number): number {
  return Math.min(CHUNK_BYTES_MAX, Math.max(CHUNK_BYTES_MIN, n));
}
