/**
 * The incremental RESP request parser: bytes in (`push`), commands out (`next`), as
 * Redis' processInputBuffer / processMultibulkBuffer / processInlineBuffer read them.
 *
 * - A request starting with `*` is a multibulk array of bulk strings; anything else is an
 *   inline command line (split like sdssplitargs; see split-args.ts). `*0` / `*-1` and
 *   empty lines are no commands and are skipped.
 * - Frames may be split at any byte: the result never depends on how the bytes arrived.
 *   (Redis checks the inline and header-line limits only while a line is incomplete; here
 *   a complete line over the limit fails too, so one chunk or many give the same answer.)
 * - Arguments are binary-safe `Buffer`s. They are views into the received chunks (or into
 *   the parser's own buffer when a frame spans chunks) and are never written again: a
 *   caller that keeps one for long should copy it so it does not pin a large chunk.
 * - Malformed input gives a `ProtocolError` carrying Redis' exact reply text; the parser
 *   then stays failed and the connection must reply and close, as Redis does. Exceeding
 *   the per-client buffer limit fails without a reply (Redis closes such a client silently).
 *
 * Allocation: a chunk holding whole frames is used as is; only a frame split across
 * chunks is copied, into a buffer that grows geometrically (never from a declared length
 * alone, so `$500000000` costs nothing until the bytes arrive).
 */
import { error } from './reply.js';
import type { ErrorReply } from './reply.js';
import { string2ll } from './numbers.js';
import { splitArgs } from './split-args.js';

export interface ParserLimits {
  /** `proto-max-bulk-len`: a longer `$<n>` is `invalid bulk length`. */
  readonly bulkBytesMax: number;
  /** A longer `*<n>` is `invalid multibulk length`. */
  readonly multibulkLengthMax: number;
  /** Longest inline line, and longest `*<n>` / `$<n>` header line. */
  readonly inlineBytesMax: number;
  /** Buffered request bytes plus arguments parsed so far (`client-query-buffer-limit`). */
  readonly bufferBytesMax: number;
}

/** Redis' limits before authentication (networking.c): 10 arguments of 16 KiB. */
export const UNAUTHENTICATED_MULTIBULK_MAX = 10;
export const UNAUTHENTICATED_BULK_BYTES_MAX = 16384;

export class ProtocolError {
  readonly kind = 'protocol-error';
  constructor(
    /** What to log. */
    readonly reason: string,
    /** The reply to send before closing; null to close without one. */
    readonly reply: ErrorReply | null,
  ) {}
}

export type ParseResult = Buffer[] | ProtocolError | null;

const NONE = 0;
const INLINE = 1;
const MULTIBULK = 2;
const STAR = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
const GROW_BYTES_MIN = 4096;
/** Slack kept past a bulk value when growing for it, for the frames that follow it. */
const BULK_SLACK_BYTES = 4096;
const EMPTY = Buffer.alloc(0);
const NO_ARGS: Buffer[] = [];

/** `-ERR Protocol error: <what>`; `what` may hold a client's byte, echoed as is. */
function protocolError(what: string | Buffer): ProtocolError {
  const text = Buffer.concat([Buffer.from('Protocol error: '), typeof what === 'string' ? Buffer.from(what) : what]);
  return new ProtocolError(text.toString('latin1'), error(Buffer.concat([Buffer.from('ERR '), text])));
}

export class RespParser {
  /** Set by the connection while the client must still authenticate (Redis' authRequired). */
  authRequired = false;
  private buf: Buffer = EMPTY;
  /** Unparsed bytes are buf[start, end); buf[end, buf.length) is free only when `owned`. */
  private start = 0;
  private end = 0;
  private owned = false;
  /** Where the current line search resumes: bytes before it hold no terminator. */
  private scanFrom = 0;
  private reqType = NONE;
  /** Arguments of the current multibulk still to read; 0 while its header is unread. */
  private remaining = 0;
  /** Length of the bulk string being read, -1 while its `$<n>` line is unread. */
  private bulkLen = -1;
  private argv: Buffer[] = [];
  private argvBytes = 0;
  private failure: ProtocolError | null = null;

  /** `limits` is read on every use, so a shared object changed by CONFIG SET applies at once. */
  constructor(private readonly limits: ParserLimits) {}

  /** Request bytes held: unparsed input plus the arguments of the command being read. */
  get bufferedBytes(): number {
    return this.end - this.start + this.argvBytes;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Adds received bytes. Returns a (silent) error if the client's buffer limit is exceeded. */
  push(chunk: Buffer): ProtocolError | null {
    if (this.failure !== null) return this.failure;
    if (chunk.length === 0) return null;
    this.append(chunk);
    if (this.bufferedBytes > this.limits.bufferBytesMax) {
      return this.fail(new ProtocolError(`client query buffer over ${this.limits.bufferBytesMax} bytes`, null));
    }
    return null;
  }

  /** The next complete command, a protocol error (sticky), or null until more bytes arrive. */
  next(): ParseResult {
    for (;;) {
      if (this.failure !== null) return this.failure;
      if (this.reqType === NONE) {
        if (this.start === this.end) {
          this.release();
          return null;
        }
        this.reqType = this.buf[this.start] === STAR ? MULTIBULK : INLINE;
      }
      const r = this.reqType === INLINE ? this.parseInline() : this.parseMultibulk();
      if (r === null || r instanceof ProtocolError) return r;
      this.reqType = NONE;
      this.remaining = 0;
      this.bulkLen = -1;
      this.argv = [];
      this.argvBytes = 0;
      if (r.length > 0) return r;
    }
  }

  private fail(e: ProtocolError): ProtocolError {
    this.failure = e;
    this.buf = EMPTY;
    this.start = this.end = 0;
    this.argv = [];
    this.argvBytes = 0;
    return e;
  }

  private release(): void {
    this.buf = EMPTY;
    this.start = this.end = this.scanFrom = 0;
    this.owned = false;
  }

  private append(chunk: Buffer): void {
    const pending = this.end - this.start;
    if (pending === 0) {
      this.buf = chunk;
      this.start = this.scanFrom = 0;
      this.end = chunk.length;
      this.owned = false;
      return;
    }
    if (this.owned && this.buf.length - this.end >= chunk.length) {
      chunk.copy(this.buf, this.end);
      this.end += chunk.length;
      return;
    }
    const need = pending + chunk.length;
    let cap = Math.max(2 * need, GROW_BYTES_MIN);
    // Inside a bulk value, grow towards its end, not far past it.
    if (this.reqType === MULTIBULK && this.bulkLen >= 0) cap = Math.max(need, Math.min(cap, this.bulkLen + 2 + BULK_SLACK_BYTES));
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, this.start, this.end);
    chunk.copy(next, pending);
    this.scanFrom = Math.max(0, this.scanFrom - this.start);
    this.buf = next;
    this.start = 0;
    this.end = need;
    this.owned = true;
  }

  /** Index of the next `byte` in the unparsed bytes, or -1 (remembering how far it looked). */
  private find(byte: number): number {
    const i = this.buf.indexOf(byte, Math.max(this.start, this.scanFrom));
    if (i < 0 || i >= this.end) {
      this.scanFrom = this.end;
      return -1;
    }
    return i;
  }

  private parseInline(): Buffer[] | ProtocolError | null {
    const max = this.limits.inlineBytesMax;
    const nl = this.find(LF);
    if (nl < 0) return this.end - this.start > max ? this.fail(protocolError('too big inline request')) : null;
    if (nl - this.start > max) return this.fail(protocolError('too big inline request'));
    const lineEnd = nl > this.start && this.buf[nl - 1] === CR ? nl - 1 : nl;
    const args = splitArgs(this.buf, this.start, lineEnd);
    if (args === null) return this.fail(protocolError('unbalanced quotes in request'));
    this.start = nl + 1;
    return args;
  }

  /** The `*<n>` or `$<n>` line at `start`: the index of its CR, -1 to wait, or an error. */
  private headerLine(tooBig: string): number | ProtocolError {
    const max = this.limits.inlineBytesMax;
    const cr = this.find(CR);
    if (cr < 0) return this.end - this.start > max ? this.fail(protocolError(tooBig)) : -1;
    if (cr - this.start > max) return this.fail(protocolError(tooBig));
    // Like Redis: the byte after CR must have arrived (it is skipped, not checked).
    return cr + 1 < this.end ? cr : -1;
  }

  private parseMultibulk(): Buffer[] | ProtocolError | null {
    if (this.remaining === 0) {
      const cr = this.headerLine('too big mbulk count string');
      if (typeof cr !== 'number') return cr;
      if (cr < 0) return null;
      const n = string2ll(this.buf, this.start + 1, cr);
      if (n === null || n > this.limits.multibulkLengthMax) return this.fail(protocolError('invalid multibulk length'));
      if (n > UNAUTHENTICATED_MULTIBULK_MAX && this.authRequired) {
        return this.fail(protocolError('unauthenticated multibulk length'));
      }
      this.start = cr + 2;
      if (n <= 0) return NO_ARGS;
      this.remaining = n;
    }
    while (this.remaining > 0) {
      if (this.bulkLen < 0) {
        const r = this.readBulkHeader();
        if (r !== true) return r;
      }
      if (this.end - this.start < this.bulkLen + 2) return null;
      this.argv.push(this.buf.subarray(this.start, this.start + this.bulkLen));
      this.argvBytes += this.bulkLen;
      this.start += this.bulkLen + 2;
      this.bulkLen = -1;
      this.remaining--;
    }
    return this.argv;
  }

  private readBulkHeader(): true | ProtocolError | null {
    if (this.start >= this.end) return null;
    const cr = this.headerLine('too big bulk count string');
    if (typeof cr !== 'number') return cr;
    if (cr < 0) return null;
    const first = this.buf[this.start]!;
    if (first !== DOLLAR) {
      return this.fail(protocolError(Buffer.concat([Buffer.from("expected '$', got '"), Buffer.of(first), Buffer.from("'")])));
    }
    const n = string2ll(this.buf, this.start + 1, cr);
    if (n === null || n < 0 || n > this.limits.bulkBytesMax) return this.fail(protocolError('invalid bulk length'));
    if (n > UNAUTHENTICATED_BULK_BYTES_MAX && this.authRequired) return this.fail(protocolError('unauthenticated bulk length'));
    this.start = cr + 2;
    this.bulkLen = n;
    return true;
  }
}
