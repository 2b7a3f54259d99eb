/**
 * One client's ordered path to the backend.
 *
 * The client's backend work runs one call at a time, in the order the client's commands
 * arrived, so a pipelined `SET k v` is applied before the `GET k` that follows it (the
 * ordering half of the Backend contract). Consecutive data commands for the same table
 * that wait together are sent as one `Backend.exec` batch (up to `batchMax`): while one
 * call is in flight the next batch grows, which is what makes deep pipelines cheap.
 *
 * Starting is deferred to a microtask, so every command parsed from one read joins the
 * first batch instead of the first command going out alone.
 */
import { assert } from '@shoal/common';
import type { Backend, CommandArgs, ExecOptions } from './backend.js';
import type { ErrorReply, Reply } from './resp/reply.js';

interface ExecOp<T> {
  readonly kind: 'exec';
  readonly table: string;
  readonly args: CommandArgs[];
  readonly targets: T[];
}

interface CallOp {
  readonly kind: 'call';
  readonly run: () => Promise<void>;
}

export interface LaneHooks<T> {
  /** Delivers one command's reply to its target. */
  deliver(target: T, reply: Reply): void;
  /** The reply for a rejected `exec` (a KvError's reply, or an internal error). */
  replyForFailure(e: unknown): ErrorReply;
  /** After each call settles (the connection flushes replies then). */
  settled(): void;
}

export class BackendLane<T> {
  private readonly ops: (ExecOp<T> | CallOp)[] = [];
  private running = false;
  private kickScheduled = false;

  constructor(
    private readonly backend: Backend,
    private readonly batchMax: number,
    private readonly options: ExecOptions,
    private readonly hooks: LaneHooks<T>,
  ) {
    assert(batchMax >= 1, 'backend batch must hold at least one command');
  }

  /** Calls started or waiting. */
  get depth(): number {
    return this.ops.length + (this.running ? 1 : 0);
  }

  /** Queues a data command whose reply goes to `target`. */
  exec(table: string, args: CommandArgs, target: T): void {
    const last = this.ops[this.ops.length - 1];
    if (last !== undefined && last.kind === 'exec' && last.table === table && last.args.length < this.batchMax) {
      last.args.push(args);
      last.targets.push(target);
    } else {
      this.ops.push({ kind: 'exec', table, args: [args], targets: [target] });
    }
    this.scheduleKick();
  }

  /** Runs `call` in order with the queued work; settles as it does. */
  call<R>(call: (backend: Backend, options: ExecOptions) => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.ops.push({
        kind: 'call',
        run: async () => {
          try {
            resolve(await call(this.backend, this.options));
          } catch (e) {
            reject(e);
          }
        },
      });
      this.scheduleKick();
    });
  }

  private scheduleKick(): void {
    if (this.kickScheduled || this.running) return;
    this.kickScheduled = true;
    queueMicrotask(() => {
      this.kickScheduled = false;
      this.runNext();
    });
  }

  private runNext(): void {
    if (this.running) return;
    const op = this.ops.shift();
    if (op === undefined) return;
    this.running = true;
    const work = op.kind === 'call' ? op.run() : this.runExec(op);
    void work.then(() => {
      this.running = false;
      this.hooks.settled();
      this.runNext();
    });
  }

  private async runExec(op: ExecOp<T>): Promise<void> {
    let replies: readonly Reply[];
    try {
      replies = await this.backend.exec(op.table, op.args, this.options);
    } catch (e) {
      const reply = this.hooks.replyForFailure(e);
      for (const t of op.targets) this.hooks.deliver(t, reply);
      return;
    }
    assert(replies.length === op.args.length, () => `backend returned ${replies.length} replies for ${op.args.length} commands`);
    for (let i = 0; i < op.targets.length; i++) this.hooks.deliver(op.targets[i]!, replies[i]!);
  }
}
