/**
 * The leader's window of App messages sent to one follower but not yet acknowledged:
 * flow control by message count and by bytes. A ring buffer of (last index, bytes) pairs,
 * grown lazily up to `size` so idle followers cost little memory.
 *
 * Invariants: 0 <= count <= size; bytes is the sum of the recorded sizes; indexes are
 * strictly increasing from the oldest to the newest entry.
 */
import { assert } from './assert.js';

export class Inflights {
  private start = 0;
  private countValue = 0;
  private bytesValue = 0;
  private readonly size: number;
  private readonly bytesMax: number;
  private indexes: number[] = [];
  private sizes: number[] = [];

  /** `size` messages at most; `bytesMax` bytes at most (0 = unlimited). */
  constructor(size: number, bytesMax: number) {
    assert(size > 0, 'inflights size must be positive');
    this.size = size;
    this.bytesMax = bytesMax;
  }

  count(): number {
    return this.countValue;
  }

  bytes(): number {
    return this.bytesValue;
  }

  /** Whether no more messages may be sent (count or byte budget exhausted). */
  full(): boolean {
    return this.countValue === this.size || (this.bytesMax !== 0 && this.bytesValue >= this.bytesMax);
  }

  /** Records an App message whose last entry is `index`. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'cannot add into a full inflights');
    let next = this.start + this.countValue;
    if (next >= this.size) next -= this.size;
    if (next >= this.indexes.length) this.grow();
    if (this.countValue > 0) {
      const prev = this.indexes[(next === 0 ? this.size : next) - 1]!;
      assert(index > prev, `inflight index ${index} not after ${prev}`);
    }
    this.indexes[next] = index;
    this.sizes[next] = bytes;
    this.countValue++;
    this.bytesValue += bytes;
  }

  /** Frees every message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    if (this.countValue === 0 || to < this.indexes[this.start]!) return;
    let idx = this.start;
    let i = 0;
    let freed = 0;
    for (; i < this.countValue; i++) {
      if (to < this.indexes[idx]!) break;
      freed += this.sizes[idx]!;
      if (++idx >= this.size) idx -= this.size; // the ring wraps at `size`, not buffer length
    }
    this.countValue -= i;
    this.bytesValue -= freed;
    this.start = this.countValue === 0 ? 0 : idx;
  }

  reset(): void {
    this.start = 0;
    this.countValue = 0;
    this.bytesValue = 0;
  }

  /**
   * Doubles the buffer (up to `size`). Only called when the ring is not wrapped
   * (next slot === buffer length), so existing slots keep their positions.
   */
  private grow(): void {
    const newLen = Math.min(this.size, Math.max(4, this.indexes.length * 2));
    assert(this.start + this.countValue === this.indexes.length, 'inflights grow while wrapped');
    for (let i = this.indexes.length; i < newLen; i++) {
      this.indexes.push(0);
      this.sizes.push(0);
    }
  }
}
