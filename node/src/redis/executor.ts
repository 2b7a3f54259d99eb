/**
 * The Redis executor of a shard leader: one command (or one MULTI block) against a
 * ReadView, giving the reply and the storage-key writes to propose. Pure with respect to
 * its inputs: the view, the arguments, ctx.nowMs, the version allocator's state and the
 * random source decide everything, so the same sequence gives the same writes.
 *
 * It neither latches, proposes nor checks leadership: see leader.ts for the caller's
 * obligations and their order.
 */
import { KvError } from '@shoal/common';
import { KEY_COMMANDS } from './cmd-keys.js';
import { HASH_COMMANDS } from './cmd-hashes.js';
import { LIST_COMMANDS } from './cmd-lists.js';
import { SCAN_COMMANDS } from './cmd-scan.js';
import { SET_COMMANDS } from './cmd-sets.js';
import { STRING_COMMANDS } from './cmd-strings.js';
import { ZSET_STORE_COMMANDS } from './cmd-zsetops.js';
import { ZSET_COMMANDS } from './cmd-zsets.js';
import { DEFAULT_LIMITS, keyPositions, lower } from './command.js';
import type { CommandEnv, CommandSpec, ExecutorLimits } from './command.js';
import { KeyCodec } from './encoding.js';
import { LayeredView } from './layered-view.js';
import { array, error } from './reply.js';
import type { Reply } from './reply.js';
import { ReplyError, Txn, VersionAllocator } from './txn.js';
import type { ExecContext, ExecResult, RawWrite, ReadView } from './view.js';

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [...STRING_COMMANDS, ...KEY_COMMANDS, ...HASH_COMMANDS, ...LIST_COMMANDS, ...SET_COMMANDS, ...ZSET_COMMANDS, ...ZSET_STORE_COMMANDS, ...SCAN_COMMANDS]
    .map((c) => [c.name, c]),
);

/** The commands this executor serves, sorted (for the docs' generated list and COMMAND). */
export function supportedCommands(): string[] {
  return [...COMMANDS.keys()].sort();
}

export interface RedisExecutorOptions {
  /** Uniform in [0, 1); default Math.random. Tests pass a seeded source. */
  readonly random?: () => number;
  readonly limits?: Partial<ExecutorLimits>;
}

/** What the caller needs before executing: is it known, does it write, which keys. */
export type CommandInfo =
  | { readonly ok: true; readonly name: string; readonly write: boolean; readonly keys: readonly Uint8Array[] }
  | { readonly ok: false; readonly reply: Reply };

export class RedisExecutor {
  private readonly versions = new VersionAllocator();
  private readonly random: () => number;
  readonly limits: ExecutorLimits;

  constructor(options: RedisExecutorOptions = {}) {
    this.random = options.random ?? Math.random;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    for (const [k, v] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(v) || v < 1) throw new KvError('CONFIG_INVALID', `redis executor: ${k} must be a positive integer`, { details: { option: k } });
    }
  }

  /** Looks the command up: unknown command and arity errors come back as the reply to send. */
  describe(args: readonly Uint8Array[]): CommandInfo {
    const spec = lookup(args);
    if (!('run' in spec)) return { ok: false, reply: spec };
    const keys = keyPositions(spec.keys, args).map((i) => args[i]!);
    return { ok: true, name: spec.name, write: spec.write, keys };
  }

  /**
   * Executes one command. Redis errors are replies (and leave `writes` empty); operating
   * errors (CORRUPTION, KEY_TOO_LARGE, REQUEST_TOO_LARGE…) reject.
   */
  async execute(ctx: ExecContext, args: readonly Uint8Array[], view: ReadView): Promise<ExecResult<Reply>> {
    const spec = lookup(args);
    if (!('run' in spec)) return { reply: spec, writes: [] };
    const txn = new Txn(view, new KeyCodec(ctx.shard), ctx, this.versions);
    const env: CommandEnv = {
      name: spec.name, args, txn, random: this.random, limits: this.limits, resp3: (ctx.respVersion ?? 2) >= 3,
    };
    let reply: Reply;
    try {
      reply = await spec.run(env);
    } catch (e) {
      if (e instanceof ReplyError) return { reply: e.reply, writes: [] };
      throw e;
    }
    if (reply.kind === 'error') return { reply, writes: [] };
    if (txn.writeBytes > this.limits.writeBytesMax) {
      throw new KvError('REQUEST_TOO_LARGE', `${spec.name} would write ${txn.writeBytes} bytes, above writeBytesMax ${this.limits.writeBytesMax}`);
    }
    return { reply, writes: txn.writes() };
  }

  /**
   * MULTI/EXEC on one shard: the commands run in order, each seeing the writes of those
   * before it, and their writes form ONE batch (one proposal, atomic). A command's Redis
   * error is its reply and the others still run, as in Redis. Latch the union of every
   * command's keys (`describe`) for the whole block.
   */
  async executeMulti(ctx: ExecContext, commands: readonly (readonly Uint8Array[])[], view: ReadView): Promise<ExecResult<Reply>> {
    const layered = new LayeredView(view);
    const replies: Reply[] = [];
    let bytes = 0;
    for (const args of commands) {
      const r = await this.execute(ctx, args, layered);
      replies.push(r.reply);
      layered.apply(r.writes);
      bytes += r.writes.reduce((n, w) => n + writeBytes(w), 0);
      if (bytes > this.limits.writeBytesMax) throw new KvError('REQUEST_TOO_LARGE', `the transaction would write more than ${this.limits.writeBytesMax} bytes`);
    }
    return { reply: array(replies), writes: layered.writes() };
  }
}

function writeBytes(w: RawWrite): number {
  switch (w.type) {
    case 'put': return w.key.length + w.value.length;
    case 'delete': return w.key.length;
    case 'deleteRange': return w.range.start.length + w.range.end.length;
  }
}

function lookup(args: readonly Uint8Array[]): CommandSpec | Reply {
  const first = args[0];
  if (first === undefined) return error('ERR empty command');
  const name = lower(first);
  const spec = COMMANDS.get(name);
  if (spec === undefined) return unknownCommand(args);
  if (spec.arity > 0 ? args.length !== spec.arity : args.length < -spec.arity) return error(`ERR wrong number of arguments for '${spec.name}' command`);
  return spec;
}

/** Redis' text: "unknown command 'x', with args beginning with: 'a' 'b' " (args cut at 128 characters). */
export function unknownCommand(args: readonly Uint8Array[]): Reply {
  const latin1 = (b: Uint8Array, max: number): string => Buffer.from(b.subarray(0, max)).toString('latin1');
  let rest = '';
  for (let i = 1; i < args.length && rest.length < 128; i++) rest += `'${latin1(args[i]!, 128 - rest.length)}' `;
  const line = `ERR unknown command '${latin1(args[0]!, 128)}', with args beginning with: ${rest}`;
  // Redis replaces newlines so the error stays one protocol line.
  return error(line.replace(/[\r\n]/g, ' '));
}
