/**
 * A tiny RESP client for tests (ioredis and redis-cli are not installed here): raw socket
 * writes, and a reply reader that keeps each reply's exact bytes (`raw`) next to a decoded
 * JavaScript value, so tests can assert the wire format byte for byte.
 *
 * Decoding: simple, bulk and verbatim strings → string (UTF-8; `rawBulk` keeps bytes),
 * integers → number, nulls → null, errors → `RespError`, arrays / sets / pushes → arrays,
 * maps → arrays of [key, value] pairs, doubles → number, booleans → boolean, big numbers → bigint.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export class RespError {
  constructor(readonly message: string) {}
}

export type Decoded = string | number | bigint | boolean | null | RespError | Decoded[] | [Decoded, Decoded][];

export interface Frame {
  readonly raw: Buffer;
  readonly value: Decoded;
}

const INCOMPLETE = Symbol('incomplete');
type Parsed = { value: Decoded; end: number } | typeof INCOMPLETE;

function lineEnd(buf: Buffer, at: number): number {
  const i = buf.indexOf('\r\n', at);
  return i < 0 ? -1 : i;
}

/** Parses one reply at `at`; INCOMPLETE if its bytes have not all arrived. */
export function parseReply(buf: Buffer, at: number): Parsed {
  if (at >= buf.length) return INCOMPLETE;
  const le = lineEnd(buf, at + 1);
  if (le < 0) return INCOMPLETE;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('utf8', at + 1, le);
  const next = le + 2;
  switch (type) {
    case '+': return { value: line, end: next };
    case '-': return { value: new RespError(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '_': return { value: null, end: next };
    case ',': return { value: line === 'inf' ? Infinity : line === '-inf' ? -Infinity : Number(line), end: next };
    case '#': return { value: line === 't', end: next };
    case '(': return { value: BigInt(line), end: next };
    case '$': case '=': case '!': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return INCOMPLETE;
      let text = buf.toString('utf8', next, next + n);
      if (type === '=') text = text.slice(4);
      return { value: type === '!' ? new RespError(text) : text, end: next + n + 2 };
    }
    case '*': case '~': case '>': case '%': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const count = type === '%' ? 2 * n : n;
      const items: Decoded[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const r = parseReply(buf, pos);
        if (r === INCOMPLETE) return INCOMPLETE;
        items.push(r.value);
        pos = r.end;
      }
      if (type !== '%') return { value: items, end: pos };
      const pairs: [Decoded, Decoded][] = [];
      for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
      return { value: pairs, end: pos };
    }
    default:
      throw new Error(`test client: unexpected reply type byte ${JSON.stringify(type)}`);
  }
}

/** A command as a RESP multibulk request. */
export function encodeCommand(args: readonly (string | Buffer | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export class RespTestClient {
  private buf: Buffer = Buffer.alloc(0);
  /** Chunks received but not yet joined to `buf` (a large bulk reply is joined once, when complete). */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Bytes `buf` must reach before a parse can succeed (known for a top-level bulk reply). */
  private needBytes = 0;
  private readonly frames: Frame[] = [];
  private readonly waiters: { resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        for (const w of this.waiters.splice(0)) w.reject(new Error('connection closed'));
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespTestClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => {
        s.off('error', reject);
        resolve(new RespTestClient(s));
      });
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Unparsed bytes received after the last complete reply. */
  get pendingBytes(): number {
    return this.buf.length + this.partsBytes;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  send(...args: (string | Buffer | number)[]): void {
    this.socket.write(encodeCommand(args));
  }

  /** The next reply, waiting at most `timeoutMs`. */
  reply(timeoutMs = 5000): Promise<Frame> {
    const ready = this.frames.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.ended) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        resolve: (f: Frame) => { clearTimeout(timer); resolve(f); },
        reject: (e: Error) => { clearTimeout(timer); reject(e); },
      };
      this.waiters.push(waiter);
    });
  }

  async call(...args: (string | Buffer | number)[]): Promise<Decoded> {
    this.send(...args);
    return (await this.reply()).value;
  }

  /** The exact bytes of the reply, as a latin1 string ('+OK\r\n'). */
  async callRaw(...args: (string | Buffer | number)[]): Promise<string> {
    this.send(...args);
    return (await this.reply()).raw.toString('latin1');
  }

  /** Resolves true once the server closed the connection, false after `timeoutMs`. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), timeoutMs); });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
    if (this.buf.length + this.partsBytes < this.needBytes) return;
    this.buf = Buffer.concat([this.buf, ...this.parts]);
    this.parts = [];
    this.partsBytes = 0;
    this.needBytes = 0;
    let at = 0;
    for (;;) {
      const r = parseReply(this.buf, at);
      if (r === INCOMPLETE) break;
      const frame = { raw: this.buf.subarray(at, r.end), value: r.value };
      at = r.end;
      const w = this.waiters.shift();
      if (w !== undefined) w.resolve(frame);
      else this.frames.push(frame);
    }
    this.buf = this.buf.subarray(at);
    if (this.buf[0] === 0x24) {
      const le = this.buf.indexOf('\r\n');
      if (le > 0) this.needBytes = le + 2 + Number(this.buf.toString('latin1', 1, le)) + 2;
    }
  }
}

/** Polls `condition` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, stepMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return condition();
}
