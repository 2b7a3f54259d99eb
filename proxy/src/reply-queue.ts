/**
 * The reply order of one connection: a slot per command, in arrival order, filled
 * whenever its command completes; `takeReady` encodes the longest filled prefix. So
 * replies leave strictly in request order however the work behind them completes.
 */
import type { CommandSpec } from './commands/table.js';
import { ReplyWriter } from './resp/encoder.js';
import type { RespVersion } from './resp/encoder.js';
import type { Reply } from './resp/reply.js';

export interface ReplySlot {
  reply: Reply | undefined;
  /** Protocol version the reply is encoded with: the client's when the command ran. */
  proto: RespVersion;
  /** Close the connection once this reply is written. */
  close: boolean;
  /** The command, once it executes (null for rejected commands and protocol errors). */
  spec: CommandSpec | null;
  argv: readonly Buffer[] | null;
  startedMs: number;
}

/** Compact the slot array once this many written slots sit at its front. */
const COMPACT_MIN = 1024;

export class ReplyQueue {
  private slots: (ReplySlot | undefined)[] = [];
  private head = 0;
  private readonly writer = new ReplyWriter();

  /** Commands whose replies have not been taken yet. */
  get length(): number {
    return this.slots.length - this.head;
  }

  /** Encoded bytes not yet taken (only between encoding and taking). */
  get encodedBytes(): number {
    return this.writer.pendingBytes;
  }

  add(proto: RespVersion): ReplySlot {
    const slot: ReplySlot = { reply: undefined, proto, close: false, spec: null, argv: null, startedMs: 0 };
    this.slots.push(slot);
    return slot;
  }

  /** Encodes every filled slot at the front, stopping after a closing one. */
  takeReady(): { chunks: Buffer[]; close: boolean } {
    let close = false;
    while (this.head < this.slots.length) {
      const slot = this.slots[this.head]!;
      if (slot.reply === undefined) break;
      this.slots[this.head++] = undefined;
      this.writer.write(slot.reply, slot.proto);
      if (slot.close) {
        close = true;
        break;
      }
    }
    if (this.head >= COMPACT_MIN && this.head * 2 >= this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
    return { chunks: this.writer.take(), close };
  }

  /** Drops every slot (the connection is closed; nothing more will be written). */
  clear(): void {
    this.slots = [];
    this.head = 0;
  }
}
