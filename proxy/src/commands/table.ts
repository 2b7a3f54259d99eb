/**
 * The command table: every command the proxy knows, looked up as Redis 7 looks them up
 * (case-insensitive; a container's subcommand from the second argument) and checked for
 * existence and arity with Redis' exact error texts.
 */
import { assert } from '@shoal/common';
import { err } from '../resp/reply.js';
import type { ErrorReply } from '../resp/reply.js';
import { ACL_CATEGORIES, COMMAND_FLAGS } from './types.js';
import type { AclCategory, CommandDef, CommandFlag, CommandRun, KeyPositions } from './types.js';

export interface CommandSpec {
  readonly def: CommandDef;
  readonly name: string;
  /** `get`, or `client|list` for a subcommand: the name errors, ACL rules and stats use. */
  readonly fullName: string;
  readonly parent: CommandSpec | null;
  readonly arity: number;
  readonly flags: ReadonlySet<CommandFlag>;
  readonly keys: KeyPositions;
  /** Explicit and implicit categories, in Redis' order. */
  readonly categories: readonly AclCategory[];
  readonly run: CommandRun;
  readonly subcommands: ReadonlyMap<string, CommandSpec>;
}

export type Lookup =
  | { readonly ok: true; readonly spec: CommandSpec }
  | { readonly ok: false; readonly reply: ErrorReply };

const NO_KEYS: KeyPositions = Object.freeze({ first: 0, last: 0, step: 0 });
/** Redis truncates echoed names and arguments in these errors to 128 bytes. */
const ECHO_BYTES_MAX = 128;

/** Longer than any command name, option or keyword: such text can only be unknown. */
const WORD_BYTES_MAX = 256;

/**
 * Lower-cases ASCII letters only, as strcasecmp compares. Text longer than any keyword
 * (a client may send a 500 MB "command name") maps to a string no keyword equals,
 * without building it.
 */
export function asciiLower(b: Uint8Array): string {
  if (b.length > WORD_BYTES_MAX) return `\u0000${b.length}`;
  let s = '';
  for (const c of b) s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
  return s;
}

/** Bytes as C's `%.Ns` prints them: up to the first NUL, at most `max`. */
function cString(b: Uint8Array, max: number): Buffer {
  let n = 0;
  while (n < b.length && n < max && b[n] !== 0) n++;
  return Buffer.from(b.buffer, b.byteOffset, n);
}

/** Redis' setImplicitACLCategories. */
function implicitCategories(def: CommandDef): AclCategory[] {
  const cats = new Set<AclCategory>(def.categories);
  const flags = new Set(def.flags);
  if (flags.has('write')) cats.add('write');
  if (flags.has('readonly') && !cats.has('scripting')) cats.add('read');
  if (flags.has('admin')) { cats.add('admin'); cats.add('dangerous'); }
  if (flags.has('pubsub')) cats.add('pubsub');
  if (flags.has('fast')) cats.add('fast');
  if (flags.has('blocking')) cats.add('blocking');
  if (!cats.has('fast')) cats.add('slow');
  return ACL_CATEGORIES.filter((c) => cats.has(c));
}

function buildSpec(def: CommandDef, parent: CommandSpec | null): CommandSpec {
  assert(def.name === def.name.toLowerCase() && def.name.length > 0, `command name must be lower case: ${def.name}`);
  assert(def.arity !== 0, `command ${def.name}: arity 0 is not valid`);
  assert((def.run.kind === 'container') === (def.subcommands !== undefined), `command ${def.name}: containers and only containers have subcommands`);
  const subcommands = new Map<string, CommandSpec>();
  const spec: CommandSpec = {
    def,
    name: def.name,
    fullName: parent === null ? def.name : `${parent.name}|${def.name}`,
    parent,
    arity: def.arity,
    flags: new Set(COMMAND_FLAGS.filter((f) => def.flags.includes(f))),
    keys: def.keys ?? NO_KEYS,
    categories: implicitCategories(def),
    run: def.run,
    subcommands,
  };
  for (const sub of def.subcommands ?? []) {
    assert(!subcommands.has(sub.name), `duplicate subcommand ${spec.fullName}|${sub.name}`);
    subcommands.set(sub.name, buildSpec(sub, spec));
  }
  return spec;
}

export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();

  constructor(defs: readonly CommandDef[]) {
    for (const def of defs) {
      assert(!this.byName.has(def.name), `duplicate command ${def.name}`);
      this.byName.set(def.name, buildSpec(def, null));
    }
  }

  /** A top-level command by name (any case). */
  get(name: string): CommandSpec | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** A command or subcommand by full name (`get`, `client|list`). */
  getFull(fullName: string): CommandSpec | undefined {
    const [top, sub] = fullName.toLowerCase().split('|', 2);
    const spec = this.byName.get(top ?? '');
    return sub === undefined ? spec : spec?.subcommands.get(sub);
  }

  /** Top-level commands, sorted by name. */
  all(): CommandSpec[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Every command and subcommand, sorted by full name. */
  allWithSubcommands(): CommandSpec[] {
    return this.all().flatMap((c) => [c, ...[...c.subcommands.values()].sort((a, b) => (a.name < b.name ? -1 : 1))]);
  }

  get size(): number {
    return this.byName.size;
  }

  /**
   * Finds the command of `argv` and checks its arity: Redis' commandCheckExistence and
   * commandCheckArity, with their exact replies.
   */
  lookup(argv: readonly Buffer[]): Lookup {
    assert(argv.length > 0, 'lookup of an empty command');
    const base = this.byName.get(asciiLower(argv[0]!));
    let spec = base;
    if (base !== undefined && base.subcommands.size > 0 && argv.length > 1) {
      spec = base.subcommands.get(asciiLower(argv[1]!));
      if (spec === undefined) {
        return { ok: false, reply: errBytes('unknown subcommand \'', cString(argv[1]!, ECHO_BYTES_MAX), `'. Try ${base.name.toUpperCase()} HELP.`) };
      }
    }
    if (spec === undefined) return { ok: false, reply: unknownCommand(argv) };
    if ((spec.arity > 0 && spec.arity !== argv.length) || argv.length < -spec.arity) {
      return { ok: false, reply: arityError(spec.fullName) };
    }
    return { ok: true, spec };
  }

  /** The key arguments of a command by its first/last/step positions (COMMAND GETKEYS, ACL). */
  keysOf(spec: CommandSpec, argv: readonly Buffer[]): Buffer[] {
    const { first, last, step } = spec.keys;
    if (first === 0) return [];
    const lastIndex = last < 0 ? argv.length + last : Math.min(last, argv.length - 1);
    const keys: Buffer[] = [];
    for (let i = first; i <= lastIndex; i += step) keys.push(argv[i]!);
    return keys;
  }
}

export function arityError(fullName: string): ErrorReply {
  return err(`wrong number of arguments for '${fullName}' command`);
}

/** `unknown command 'x', with args beginning with: 'a' 'b' ` — Redis 7's text, byte for byte. */
export function unknownCommand(argv: readonly Buffer[]): ErrorReply {
  const parts: Buffer[] = [];
  let argsLen = 0;
  for (let i = 1; i < argv.length && argsLen < ECHO_BYTES_MAX; i++) {
    const arg = cString(argv[i]!, ECHO_BYTES_MAX - argsLen);
    parts.push(Buffer.from("'"), arg, Buffer.from("' "));
    argsLen += arg.length + 3;
  }
  return errBytes('unknown command \'', cString(argv[0]!, ECHO_BYTES_MAX), "', with args beginning with: ", ...parts);
}

function errBytes(...parts: (string | Buffer)[]): ErrorReply {
  return { type: 'error', value: Buffer.concat([Buffer.from('ERR '), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))]) };
}
