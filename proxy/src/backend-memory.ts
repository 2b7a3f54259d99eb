/**
 * TEST-ONLY in-memory `Backend`. It exists so the proxy's protocol, connection and
 * command-table tests run without a cluster; it is not the data model (that lives on the
 * storage nodes) and must never serve real clients.
 *
 * Minimal Redis semantics for GET, SET (EX PX EXAT PXAT NX XX KEEPTTL GET), DEL, EXISTS,
 * INCR, MGET, MSET, EXPIRE (NX XX GT LT), TTL; every value is a string. Any other command
 * answers an error. Transactions are trivially atomic (one thread); WATCH stamps are
 * per-key version numbers bumped on every write. `delayMs` simulates backend latency,
 * so tests can make calls complete out of order.
 */
import { globMatch } from '@shoal/common';
import type {
  Backend, BackendStats, CommandArgs, ExecOptions, ScanOptions, ScanPage, TableStats, TransactionCommand, WatchStamp,
} from './backend.js';
import { asciiLower } from './commands/table.js';
import { parseInteger } from './resp/numbers.js';
import { array, bulk, err, integer, NOT_INTEGER, NULL_BULK, OK, SYNTAX_ERROR } from './resp/reply.js';
import type { Reply } from './resp/reply.js';

interface Entry {
  value: Buffer;
  /** Absolute expiry in ms, or 0 for none. */
  expireAtMs: number;
}

export interface MemoryBackendOptions {
  /** Wall clock in ms (for TTLs). */
  readonly clock?: () => number;
  /** Delay before each call resolves: a number, or a function of the call (tests). */
  readonly delayMs?: number | ((what: string) => number);
}

const OVERFLOW = err('increment or decrement would overflow');
const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;

class Table {
  readonly entries = new Map<string, Entry>();
  readonly versions = new Map<string, number>();
}

export class MemoryBackend implements Backend {
  private readonly tables = new Map<string, Table>();
  private readonly clock: () => number;
  private version = 0;
  /** Calls received, for tests: `exec` batches and their sizes. */
  readonly calls: { kind: string; table?: string; commands?: number }[] = [];

  constructor(private readonly options: MemoryBackendOptions = {}) {
    this.clock = options.clock ?? Date.now;
  }

  async exec(table: string, commands: readonly CommandArgs[], _options?: ExecOptions): Promise<readonly Reply[]> {
    this.calls.push({ kind: 'exec', table, commands: commands.length });
    await this.delay('exec');
    const t = this.table(table);
    return commands.map((c) => this.run(t, c));
  }

  async watch(table: string, keys: readonly Buffer[], _options?: ExecOptions): Promise<readonly WatchStamp[]> {
    this.calls.push({ kind: 'watch', table });
    await this.delay('watch');
    const t = this.table(table);
    return keys.map((k) => ({ table, key: Buffer.from(k), token: String(this.versionOf(t, k)) }));
  }

  async transaction(commands: readonly TransactionCommand[], watched: readonly WatchStamp[], _options?: ExecOptions): Promise<readonly Reply[] | null> {
    this.calls.push({ kind: 'transaction', commands: commands.length });
    await this.delay('transaction');
    for (const w of watched) {
      if (String(this.versionOf(this.table(w.table), w.key)) !== w.token) return null;
    }
    return commands.map((c) => this.run(this.table(c.table), c.args));
  }

  async dbsize(table: string): Promise<number> {
    await this.delay('dbsize');
    const t = this.table(table);
    this.expireAll(t);
    return t.entries.size;
  }

  async flush(table: string): Promise<void> {
    await this.delay('flush');
    const t = this.table(table);
    for (const k of t.entries.keys()) this.bump(t, k);
    t.entries.clear();
  }

  async scan(table: string, cursor: string, options: ScanOptions): Promise<ScanPage> {
    await this.delay('scan');
    const t = this.table(table);
    this.expireAll(t);
    const keys = [...t.entries.keys()].sort();
    const start = Number(cursor);
    const page = keys.slice(start, start + options.count).map((k) => Buffer.from(k, 'latin1'));
    const next = start + options.count >= keys.length ? '0' : String(start + options.count);
    const typeOk = options.type === undefined || options.type === 'string';
    const match = options.match;
    return { cursor: next, keys: typeOk ? page.filter((k) => match === undefined || globMatch(match, k)) : [] };
  }

  async stats(tables: readonly string[]): Promise<BackendStats> {
    await this.delay('stats');
    const out = new Map<string, TableStats>();
    const now = this.clock();
    for (const name of new Set(tables)) {
      const t = this.table(name);
      this.expireAll(t);
      const ttls = [...t.entries.values()].filter((e) => e.expireAtMs > 0).map((e) => e.expireAtMs - now);
      out.set(name, { keys: t.entries.size, expires: ttls.length, avgTtlMs: ttls.length === 0 ? 0 : ttls.reduce((a, b) => a + b, 0) / ttls.length });
    }
    return { tables: out, cluster: { backend: 'memory (test only)' } };
  }

  /** Direct read for tests: the value of a key, or undefined. */
  peek(table: string, key: string | Buffer): Buffer | undefined {
    return this.get(this.table(table), typeof key === 'string' ? Buffer.from(key) : key)?.value;
  }

  private async delay(what: string): Promise<void> {
    const d = this.options.delayMs;
    const ms = typeof d === 'function' ? d(what) : d ?? 0;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }

  private table(name: string): Table {
    let t = this.tables.get(name);
    if (t === undefined) {
      t = new Table();
      this.tables.set(name, t);
    }
    return t;
  }

  private versionOf(t: Table, key: Buffer): number {
    this.get(t, key); // expiry counts as a change
    return t.versions.get(key.toString('latin1')) ?? 0;
  }

  private bump(t: Table, k: string): void {
    t.versions.set(k, ++this.version);
  }

  private get(t: Table, key: Buffer): Entry | undefined {
    const k = key.toString('latin1');
    const e = t.entries.get(k);
    if (e !== undefined && e.expireAtMs > 0 && e.expireAtMs <= this.clock()) {
      t.entries.delete(k);
      this.bump(t, k);
      return undefined;
    }
    return e;
  }

  private put(t: Table, key: Buffer, e: Entry): void {
    const k = key.toString('latin1');
    t.entries.set(k, e);
    this.bump(t, k);
  }

  private remove(t: Table, key: Buffer): boolean {
    if (this.get(t, key) === undefined) return false;
    const k = key.toString('latin1');
    t.entries.delete(k);
    this.bump(t, k);
    return true;
  }

  private expireAll(t: Table): void {
    for (const k of [...t.entries.keys()]) this.get(t, Buffer.from(k, 'latin1'));
  }

  private run(t: Table, args: CommandArgs): Reply {
    const name = asciiLower(args[0]!);
    switch (name) {
      case 'get': {
        const e = this.get(t, args[1]!);
        return e === undefined ? NULL_BULK : bulk(e.value);
      }
      case 'set': return this.set(t, args);
      case 'del': return integer(args.slice(1).filter((k) => this.remove(t, k)).length);
      case 'exists': return integer(args.slice(1).filter((k) => this.get(t, k) !== undefined).length);
      case 'incr': return this.incr(t, args[1]!);
      case 'mget': return array(args.slice(1).map((k) => {
        const e = this.get(t, k);
        return e === undefined ? NULL_BULK : bulk(e.value);
      }));
      case 'mset': {
        if ((args.length - 1) % 2 !== 0) return err('wrong number of arguments for \'mset\' command');
        for (let i = 1; i < args.length; i += 2) this.put(t, args[i]!, { value: Buffer.from(args[i + 1]!), expireAtMs: 0 });
        return OK;
      }
      case 'expire': return this.expire(t, args);
      case 'ttl': {
        const e = this.get(t, args[1]!);
        if (e === undefined) return integer(-2);
        if (e.expireAtMs === 0) return integer(-1);
        return integer(Math.floor((e.expireAtMs - this.clock() + 500) / 1000));
      }
      default:
        return err(`the in-memory test backend does not implement '${name}'`);
    }
  }

  private set(t: Table, args: CommandArgs): Reply {
    const key = args[1]!;
    let nx = false;
    let xx = false;
    let get = false;
    let keepTtl = false;
    let expireAtMs = 0;
    for (let i = 3; i < args.length; i++) {
      const opt = asciiLower(args[i]!);
      if (opt === 'nx' && !xx) nx = true;
      else if (opt === 'xx' && !nx) xx = true;
      else if (opt === 'get') get = true;
      else if (opt === 'keepttl' && expireAtMs === 0) keepTtl = true;
      else if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && !keepTtl && expireAtMs === 0 && i + 1 < args.length) {
        const n = parseInteger(args[++i]!);
        if (n === null) return NOT_INTEGER;
        if (n <= 0) return err('invalid expire time in \'set\' command');
        const now = this.clock();
        expireAtMs = opt === 'ex' ? now + n * 1000 : opt === 'px' ? now + n : opt === 'exat' ? n * 1000 : n;
      } else return SYNTAX_ERROR;
    }
    const old = this.get(t, key);
    if ((nx && old !== undefined) || (xx && old === undefined)) return get ? (old === undefined ? NULL_BULK : bulk(old.value)) : NULL_BULK;
    this.put(t, key, { value: Buffer.from(args[2]!), expireAtMs: keepTtl && old !== undefined ? old.expireAtMs : expireAtMs });
    if (get) return old === undefined ? NULL_BULK : bulk(old.value);
    return OK;
  }

  private incr(t: Table, key: Buffer): Reply {
    const e = this.get(t, key);
    let n = 0n;
    if (e !== undefined) {
      const v = parseInteger(e.value);
      if (v === null) return NOT_INTEGER;
      n = BigInt(e.value.toString('latin1'));
    }
    const next = n + 1n;
    if (next > I64_MAX || next < I64_MIN) return OVERFLOW;
    this.put(t, key, { value: Buffer.from(next.toString()), expireAtMs: e?.expireAtMs ?? 0 });
    return integer(next);
  }

  private expire(t: Table, args: CommandArgs): Reply {
    const seconds = parseInteger(args[2]!);
    if (seconds === null) return NOT_INTEGER;
    const flag = args[3] === undefined ? '' : asciiLower(args[3]);
    if (args.length > 4 || !['', 'nx', 'xx', 'gt', 'lt'].includes(flag)) return SYNTAX_ERROR;
    const e = this.get(t, args[1]!);
    if (e === undefined) return integer(0);
    const at = this.clock() + seconds * 1000;
    const current = e.expireAtMs === 0 ? Infinity : e.expireAtMs;
    if ((flag === 'nx' && e.expireAtMs !== 0) || (flag === 'xx' && e.expireAtMs === 0)
      || (flag === 'gt' && !(at > current)) || (flag === 'lt' && !(at < current))) return integer(0);
    if (seconds <= 0) {
      this.remove(t, args[1]!);
      return integer(1);
    }
    this.put(t, args[1]!, { value: e.value, expireAtMs: at });
    return integer(1);
  }
}
