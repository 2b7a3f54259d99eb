/**
 * The receiving end of one snapshot transfer as the installer sees it: an AsyncIterable of
 * data chunks that yields them as they arrive and ENDS ONLY AFTER THE TRAILER VERIFIED.
 *
 * The network side calls `push` for each data chunk (CRC32C, count and size accumulate
 * here), then `finishWithTrailer`, or `fail` if the stream broke. The consumer side
 * iterates. If verification fails, the iterator throws `KvError('CORRUPTION')` after the
 * last chunk instead of ending, so an installer that stages chunks and only commits when
 * iteration completes can never commit corrupt data.
 *
 * Buffering is bounded: once `bufferBytesMax` bytes wait for the consumer, `flow.pause()`
 * stops reading from the network (HTTP/2 flow control then stalls the sender); below half
 * of it, `flow.resume()`. One consumer only.
 */
import { assert, crc32c, KvError } from '@shoal/common';
import type { raft } from '@shoal/proto';

export interface ChannelFlowControl {
  pause(): void;
  resume(): void;
}

export type ChannelOutcome = { readonly ok: true } | { readonly ok: false; readonly error: KvError };

export class SnapshotChunkChannel implements AsyncIterable<Uint8Array> {
  private readonly bufferBytesMax: number;
  private readonly declaredTotalBytes: number;
  private readonly flow: ChannelFlowControl;
  private buffer: Uint8Array[] = [];
  private bufferHead = 0;
  private bufferedBytes = 0;
  private paused = false;
  private iterated = false;
  /** The consumer stopped early (or never started): chunks are verified, not kept. */
  private discarding = false;
  private crc = 0;
  private chunks = 0;
  private bytes = 0;
  private result: ChannelOutcome | undefined;
  private wake: (() => void) | undefined;
  private readonly settledWaiters: ((o: ChannelOutcome) => void)[] = [];

  constructor(opts: { bufferBytesMax: number; declaredTotalBytes: number; flow: ChannelFlowControl }) {
    this.bufferBytesMax = opts.bufferBytesMax;
    this.declaredTotalBytes = opts.declaredTotalBytes;
    this.flow = opts.flow;
  }

  get receivedBytes(): number {
    return this.bytes;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The outcome once known (trailer checked or stream failed). */
  get outcome(): ChannelOutcome | undefined {
    return this.result;
  }

  // ---- network side

  push(data: Uint8Array): void {
    if (this.result !== undefined) {
      // Data after a good trailer spoils it (unless the consumer already finished).
      if (this.result.ok) this.settle({ ok: false, error: new KvError('PROTOCOL_ERROR', 'snapshot data after the trailer') });
      return;
    }
    this.crc = crc32c(data, this.crc);
    this.chunks++;
    this.bytes += data.length;
    if (this.discarding) return;
    this.buffer.push(data);
    this.bufferedBytes += data.length;
    if (this.bufferedBytes >= this.bufferBytesMax && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
    this.notify();
  }

  /** Verifies the trailer against everything pushed. */
  finishWithTrailer(trailer: raft.SnapshotTrailer): void {
    if (this.result !== undefined) return;
    const problems: string[] = [];
    if (trailer.crc32c !== this.crc) problems.push(`crc32c ${hex(this.crc)} != trailer ${hex(trailer.crc32c)}`);
    if (trailer.chunkCount !== this.chunks) problems.push(`${this.chunks} chunks != trailer ${trailer.chunkCount}`);
    if (this.declaredTotalBytes !== 0 && this.declaredTotalBytes !== this.bytes) {
      problems.push(`${this.bytes} bytes != header ${this.declaredTotalBytes}`);
    }
    this.settle(problems.length === 0 ? { ok: true }
      : { ok: false, error: new KvError('CORRUPTION', `snapshot data failed verification: ${problems.join(', ')}`) });
  }

  /** The transfer broke. The first outcome wins: a break after a verified trailer changes nothing. */
  fail(error: KvError): void {
    if (this.result !== undefined) return;
    this.settle({ ok: false, error });
  }

  /** Resolves with the outcome once the trailer was checked or the transfer failed. */
  settled(): Promise<ChannelOutcome> {
    if (this.result !== undefined) return Promise.resolve(this.result);
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** The consumer is gone: drop what is buffered, keep reading (and verifying) to the trailer. */
  discard(): void {
    this.discarding = true;
    this.buffer = [];
    this.bufferHead = 0;
    this.bufferedBytes = 0;
    this.maybeResume();
  }

  // ---- consumer side

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    assert(!this.iterated, 'a snapshot chunk stream can be iterated only once');
    this.iterated = true;
    return {
      next: () => this.next(),
      return: () => {
        this.discard();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private async next(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      const chunk = this.buffer[this.bufferHead];
      if (chunk !== undefined) {
        this.buffer[this.bufferHead++] = EMPTY;
        if (this.bufferHead === this.buffer.length) {
          this.buffer = [];
          this.bufferHead = 0;
        }
        this.bufferedBytes -= chunk.length;
        this.maybeResume();
        return { done: false, value: chunk };
      }
      if (this.result !== undefined) {
        if (this.result.ok) return { done: true, value: undefined };
        throw this.result.error;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private maybeResume(): void {
    if (this.paused && this.bufferedBytes <= this.bufferBytesMax / 2) {
      this.paused = false;
      this.flow.resume();
    }
  }

  private settle(outcome: ChannelOutcome): void {
    this.result = outcome;
    for (const w of this.settledWaiters.splice(0)) w(outcome);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

const EMPTY = new Uint8Array(0);

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
