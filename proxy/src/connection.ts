/**
 * One client connection: bytes in, commands dispatched, replies out in request order.
 *
 * Flow: socket data → `RespParser` → `dispatch` (Redis' processCommand: lookup, arity,
 * authentication, MULTI rules, ACL, then queue or run) → a slot per command in the
 * `ReplyQueue`, in arrival order. Local commands fill their slot at once; data commands go
 * through the client's `BackendLane` and fill theirs when the backend answers; async
 * handlers when their promise settles. Writing takes the longest filled prefix, so replies
 * leave strictly in request order however the work completes.
 *
 * Flow control: reading pauses while `clientPendingCommandsMax` commands wait for replies
 * or the socket holds more than `clientWriteBufferBytesMax` unsent bytes, and resumes when
 * both drain. Closing: a protocol error, QUIT or CLIENT KILL of oneself closes after the
 * replies before it are written (`closeAfterReply`); a peer that half-closes still gets
 * the replies of what it sent; `kill` closes at once.
 */
import type { Socket } from 'node:net';
import { AssertionError } from '@shoal/common';
import type { Backend, ExecOptions } from './backend.js';
import { BackendLane } from './backend-lane.js';
import type { AclUser } from './acl.js';
import type { CommandSpec } from './commands/table.js';
import type { Client, CommandContext, MultiState, ServerContext, WatchedKeys } from './commands/types.js';
import type { RespVersion } from './resp/encoder.js';
import { ProtocolError, RespParser } from './resp/parser.js';
import { err, error, NOAUTH, QUEUED, replyForThrown } from './resp/reply.js';
import type { ErrorReply, Reply } from './resp/reply.js';
import type { ProxyLogger } from './logger.js';
import { ReplyQueue } from './reply-queue.js';
import { commandStats, recordExecution } from './stats.js';
import type { ReplySlot } from './reply-queue.js';

/** What a connection needs from the server besides what commands see. */
export interface ConnectionHost extends ServerContext {
  readonly log: ProxyLogger;
  connectionClosed(conn: Connection): void;
}

/** Commands that MULTI runs at once instead of queueing (Redis' processCommand list). */
const TRANSACTION_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export class Connection implements Client {
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  readonly createdMs: number;
  lastInteractionMs: number;
  name = '';
  libName = '';
  libVer = '';
  db = 0;
  table: string;
  resp: RespVersion = 2;
  user: AclUser;
  authenticated: boolean;
  lastCommand = 'NULL';
  multi: MultiState | null = null;
  watched: WatchedKeys[] = [];

  private readonly parser: RespParser;
  private readonly replies = new ReplyQueue();
  private readonly lane: BackendLane<ReplySlot>;
  private readonly abort = new AbortController();
  private current: ReplySlot | null = null;
  /** none → after-reply (finish what is read, then close) → closed. */
  private closing: 'none' | 'after-reply' | 'closed' = 'none';
  private peerEnded = false;
  private readPaused = false;
  private writeBlocked = false;
  private pumping = false;
  /** The parser may hold complete commands not yet dispatched (flow control held them back). */
  private parsedMore = false;
  /** While set, no command is dispatched (see holdDispatch). */
  private barrier: Promise<void> | null = null;

  constructor(readonly id: number, private readonly socket: Socket, private readonly host: ConnectionHost) {
    this.addr = formatPeer(socket.remoteAddress, socket.remotePort);
    this.laddr = formatPeer(socket.localAddress, socket.localPort);
    this.fd = socketFd(socket);
    this.createdMs = this.lastInteractionMs = host.clock();
    this.table = host.config.databases[0]!;
    this.user = host.acl.defaultUser;
    this.authenticated = host.acl.defaultAuthenticated;
    this.parser = new RespParser(host.settings.limits);
    this.parser.authRequired = host.acl.authRequired(this);
    const options: ExecOptions = { signal: this.abort.signal, clientId: id, respVersion: () => this.resp };
    this.lane = new BackendLane<ReplySlot>(host.backend, host.config.backendBatchCommandsMax, options, {
      deliver: (slot, reply) => this.resolve(slot, reply),
      replyForFailure: (e) => this.replyForThrown(e),
      settled: () => this.flush(),
    });
  }

  start(): void {
    const s = this.socket;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('drain', () => {
      this.writeBlocked = false;
      this.pump();
    });
    s.on('end', () => {
      // The peer sent everything it will send; answer it, then close.
      this.peerEnded = true;
      this.maybeFinish();
    });
    s.on('error', (e) => this.host.log.debug({ clientId: this.id, err: e }, 'client socket error'));
    s.on('close', () => this.onClose());
  }

  // ---- Client (what commands see) ----

  get queryBufferBytes(): number {
    return this.parser.bufferedBytes;
  }

  get outputBufferBytes(): number {
    return this.socket.writableLength + this.replies.encodedBytes;
  }

  get pendingCommands(): number {
    return this.replies.length;
  }

  get flagLetters(): string {
    let f = '';
    if (this.multi !== null) f += 'x';
    if (this.closing === 'after-reply') f += 'c';
    return f === '' ? 'N' : f;
  }

  backendCall<T>(call: (backend: Backend, options: ExecOptions) => Promise<T>): Promise<T> {
    return this.lane.call(call);
  }

  holdDispatch(until: Promise<unknown>): void {
    const barrier = until.then(() => undefined, () => undefined);
    this.barrier = barrier;
    void barrier.then(() => {
      if (this.barrier === barrier) this.barrier = null;
      this.pump();
    });
  }

  closeAfterReply(): void {
    if (this.closing !== 'none') return;
    this.closing = 'after-reply';
    if (this.current !== null) this.current.close = true;
    else this.maybeFinish();
  }

  kill(reason: string): void {
    if (this.closing === 'closed') return;
    this.host.log.debug({ clientId: this.id, reason }, 'closing client');
    this.closing = 'closed';
    this.abort.abort();
    this.socket.destroy();
  }

  /** Starts a graceful close (proxy shutdown): no more commands; pending replies are sent. */
  shutdown(): void {
    if (this.closing !== 'none') return;
    this.closing = 'after-reply';
    this.maybeFinish();
  }

  // ---- Reading and dispatching ----

  private onData(chunk: Buffer): void {
    this.host.stats.netInputBytes += chunk.length;
    this.lastInteractionMs = this.host.clock();
    if (this.closing !== 'none') return;
    const failure = this.parser.push(chunk);
    if (failure !== null) {
      this.protocolFailure(failure);
      return;
    }
    this.parsedMore = true;
    this.pump();
  }

  private canDispatch(): boolean {
    return this.closing === 'none' && !this.writeBlocked && this.barrier === null
      && this.pendingCommands < this.host.config.clientPendingCommandsMax;
  }

  /**
   * Parses and dispatches every complete command flow control allows, writing replies as
   * it goes (so finished replies free their places), then updates reading and closing.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        while (this.canDispatch()) {
          // AUTH, HELLO or RESET may have changed it: Redis' pre-AUTH limits apply per request.
          this.parser.authRequired = this.host.acl.authRequired(this);
          const r = this.parser.next();
          if (r === null) {
            this.parsedMore = false;
            break;
          }
          if (r instanceof ProtocolError) {
            this.protocolFailure(r);
            break;
          }
          this.dispatch(r);
        }
        this.writeReplies();
        if (!this.parsedMore || !this.canDispatch()) break;
      }
    } finally {
      this.pumping = false;
    }
    this.updateReading();
    this.maybeFinish();
  }

  private protocolFailure(e: ProtocolError): void {
    this.host.log.info({ clientId: this.id, addr: this.addr, reason: e.reason }, 'protocol error; closing client');
    if (e.reply === null) {
      this.kill(e.reason);
      return;
    }
    const slot = this.newSlot();
    slot.reply = e.reply;
    slot.close = true;
    this.closing = 'after-reply';
    this.flush();
  }

  private newSlot(): ReplySlot {
    return this.replies.add(this.resp);
  }

  /** Redis' processCommand: checks in Redis' order, then MULTI queueing or execution. */
  private dispatch(argv: Buffer[]): void {
    const host = this.host;
    const slot = this.newSlot();
    const looked = host.commands.lookup(argv);
    if (!looked.ok) {
      if (isSecurityProbe(argv)) {
        this.kill('possible cross-protocol attack (POST or Host: seen)');
        return;
      }
      return this.reject(slot, null, looked.reply);
    }
    const spec = looked.spec;
    this.lastCommand = spec.fullName;
    if (host.acl.authRequired(this) && !spec.flags.has('no_auth')) return this.reject(slot, spec, NOAUTH);
    if (this.multi !== null && (spec.flags.has('no_multi') || spec.def.notInTransaction === true)) {
      return this.reject(slot, spec, err('Command not allowed inside a transaction'));
    }
    const denied = this.permissionError(spec, this.table);
    if (denied !== null) return this.reject(slot, spec, denied);
    if (this.multi !== null && !TRANSACTION_CONTROL.has(spec.fullName)) return this.queue(slot, spec, argv, this.multi);
    this.execute(slot, spec, argv);
  }

  /** NOPERM for a command the user may not run, or a table whose data it may not touch. */
  permissionError(spec: CommandSpec, table: string): ErrorReply | null {
    const acl = this.host.acl;
    if (!acl.canRun(this.user, spec)) {
      return error(`NOPERM User ${this.user.name} has no permissions to run the '${spec.fullName}' command`);
    }
    if (touchesTable(spec) && !acl.canAccessTable(this.user, table)) {
      return error(`NOPERM User ${this.user.name} has no permissions to access the '${table}' table`);
    }
    return null;
  }

  /** Redis' rejectCommand: the error reply, and a MULTI in progress will EXECABORT. */
  private reject(slot: ReplySlot, spec: CommandSpec | null, reply: ErrorReply): void {
    if (this.multi !== null) this.multi.dirty = true;
    if (spec !== null) commandStats(this.host.stats, spec).rejected++;
    this.resolve(slot, reply);
  }

  private queue(slot: ReplySlot, spec: CommandSpec, argv: Buffer[], multi: MultiState): void {
    if (multi.queued.length >= this.host.config.multiCommandsMax) {
      return this.reject(slot, spec, err(`Transaction has more than ${this.host.config.multiCommandsMax} commands (multiCommandsMax)`));
    }
    // Copied: queued arguments live until EXEC and must not pin the network chunks they came in.
    multi.queued.push({ spec, argv: argv.map((a) => Buffer.from(a)) });
    multi.queuedBytes += argv.reduce((n, a) => n + a.length, 0);
    // Like Redis, queued arguments count against the client's query buffer limit.
    if (multi.queuedBytes + this.parser.bufferedBytes > this.host.settings.limits.bufferBytesMax) {
      this.kill('MULTI queue over the client buffer limit (clientBufferBytesMax)');
      return;
    }
    this.resolve(slot, QUEUED);
  }

  private execute(slot: ReplySlot, spec: CommandSpec, argv: Buffer[]): void {
    this.host.stats.commandsProcessed++;
    slot.spec = spec;
    slot.argv = argv;
    slot.startedMs = this.host.clock();
    if (spec.run.kind === 'backend') {
      slot.proto = this.resp;
      this.lane.exec(this.table, argv, slot);
      return;
    }
    const handler = spec.run.handler;
    if (handler === undefined) throw new AssertionError(`command ${spec.fullName} has no handler`);
    const ctx: CommandContext = { argv, spec, client: this, server: this.host, inTransaction: false };
    let result: Reply | Promise<Reply>;
    this.current = slot;
    try {
      result = handler(ctx);
    } catch (e) {
      result = this.replyForThrown(e);
    } finally {
      this.current = null;
    }
    slot.proto = this.resp;
    if (result instanceof Promise) {
      result.then((r) => this.resolve(slot, r), (e: unknown) => this.resolve(slot, this.replyForThrown(e)));
    } else {
      this.resolve(slot, result);
    }
  }

  /** A KvError's reply; anything else is logged and answered as an internal error. */
  replyForThrown(e: unknown): ErrorReply {
    if (e instanceof AssertionError) throw e;
    const known = replyForThrown(e);
    if (known !== null) return known;
    this.host.log.error({ clientId: this.id, err: e }, 'command failed unexpectedly');
    return err('internal error (see the proxy log)');
  }

  // ---- Replies ----

  private resolve(slot: ReplySlot, reply: Reply): void {
    slot.reply = reply;
    const failed = reply.type === 'error';
    if (failed) this.host.stats.errorReplies++;
    if (slot.spec !== null && slot.argv !== null) recordExecution(this.host, this, slot.spec, slot.argv, slot.startedMs, failed);
    if (!this.pumping) this.flush();
  }

  /** For EXEC: records a queued command as executed, as Redis logs commands inside a transaction. */
  recordQueued(spec: CommandSpec, argv: readonly Buffer[], startedMs: number, reply: Reply): void {
    this.host.stats.commandsProcessed++;
    recordExecution(this.host, this, spec, argv, startedMs, reply.type === 'error');
  }

  /** Writes what is ready, then (outside a pump) updates reading and closing. */
  private flush(): void {
    this.writeReplies();
    if (this.pumping || this.closing === 'closed') return;
    this.updateReading();
    this.maybeFinish();
  }

  /** Writes every reply whose predecessors are written; closes after a closing one. */
  private writeReplies(): void {
    if (this.closing === 'closed') return;
    const { chunks, close } = this.replies.takeReady();
    if (chunks.length > 0) {
      const s = this.socket;
      s.cork();
      for (const c of chunks) {
        this.host.stats.netOutputBytes += c.length;
        s.write(c);
      }
      s.uncork();
      this.lastInteractionMs = this.host.clock();
      if (s.writableLength > this.host.config.clientWriteBufferBytesMax) this.writeBlocked = true;
    }
    if (close) this.endSocket();
  }

  /** Pauses or resumes socket reads to match flow control; dispatches what was held back. */
  private updateReading(): void {
    if (this.closing !== 'none') return;
    const blocked = !this.canDispatch();
    if (blocked && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    } else if (!blocked) {
      if (this.readPaused) {
        this.readPaused = false;
        this.socket.resume();
      }
      if (this.parsedMore) this.pump();
    }
  }

  /**
   * Closes once nothing is left to answer: when closing, or when the peer has ended and
   * every command it sent has been dispatched (dispatch runs to exhaustion whenever flow
   * control allows it, so allowed-and-idle means the parser holds no complete command).
   */
  private maybeFinish(): void {
    if (this.closing === 'closed' || this.pendingCommands > 0) return;
    if (this.closing === 'after-reply' || (this.peerEnded && this.canDispatch())) this.endSocket();
  }

  private endSocket(): void {
    if (this.closing === 'closed') return;
    this.closing = 'closed';
    this.replies.clear();
    this.socket.end();
    // Keep reading (and ignoring) so the peer's FIN arrives and the socket can close.
    this.socket.resume();
    // A peer that never reads would keep the socket open; give it the close timeout.
    const timer = setTimeout(() => this.socket.destroy(), this.host.config.closeTimeoutMs);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  private onClose(): void {
    this.closing = 'closed';
    this.replies.clear();
    this.host.connectionClosed(this);
  }
}

function touchesTable(spec: CommandSpec): boolean {
  return spec.run.kind === 'backend' || spec.def.notInTransaction === true || spec.keys.first > 0;
}

/** Redis closes connections whose first word is POST or Host: (an HTTP request sent to Redis). */
function isSecurityProbe(argv: readonly Buffer[]): boolean {
  if (argv[0]!.length > 5) return false;
  const name = argv[0]!.toString('latin1').toLowerCase();
  return name === 'post' || name === 'host:';
}

function formatPeer(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return '?:0';
  return address.includes(':') ? `[${address}]:${port ?? 0}` : `${address}:${port ?? 0}`;
}

/** The socket's file descriptor where libuv exposes it (CLIENT LIST `fd=`), else -1. */
function socketFd(socket: Socket): number {
  const handle: unknown = Reflect.get(socket, '_handle');
  if (typeof handle !== 'object' || handle === null) return -1;
  const fd: unknown = Reflect.get(handle, 'fd');
  return typeof fd === 'number' ? fd : -1;
}
