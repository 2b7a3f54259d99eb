/**
 * `Shoal`: a connection to one Shoal cluster.
 *
 * The caller's obligations, in order:
 * 1. `const db = await Shoal.connect({ metaservers: [...] })` — validates the options and
 *    reaches a metaserver (fails with UNAVAILABLE if none answers within `timeoutMs`);
 * 2. `db.table(name)` for each table (cheap; routes load on first use), then any number of
 *    concurrent calls;
 * 3. `await db.close()` once — new calls then fail with CANCELLED, calls in flight get
 *    `closeTimeoutMs` to finish, and every connection is closed.
 */
import { KvError } from '@shoal/common';
import { ClientCore } from './client-core.js';
import { resolveOptions } from './options.js';
import type { ConnectOptions } from './options.js';
import { Table } from './table.js';
import { Deadline } from './timing.js';

/** Longest table name accepted (the metaserver decides the real limit). */
const TABLE_NAME_CHARS_MAX = 1024;

/** A client of one Shoal cluster; see the file comment for its lifecycle. */
export class Shoal {
  private readonly tables = new Map<string, Table>();

  private constructor(private readonly core: ClientCore) {}

  /**
   * Validates `options`, reaches a metaserver (learning the group's members and leader)
   * and returns a ready client. Throws INVALID_ARGUMENT naming a bad option, UNAVAILABLE
   * if no metaserver answered within `timeoutMs`.
   */
  static async connect(options: ConnectOptions): Promise<Shoal> {
    const core = new ClientCore(resolveOptions(options));
    try {
      await core.meta.discover(new Deadline(core.options.timeoutMs), core.signal);
    } catch (e) {
      await core.close();
      throw e;
    }
    return new Shoal(core);
  }

  /**
   * The table named `name`. Cheap and cached: the same name gives the same object. Nothing
   * is checked until its first call (which fails with TABLE_NOT_FOUND if there is no such
   * table, or CANCELLED once the client is closed).
   */
  table(name: string): Table {
    if (typeof name !== 'string' || name.length === 0 || name.length > TABLE_NAME_CHARS_MAX) {
      throw new KvError('INVALID_ARGUMENT', `table name must be a non-empty string of at most ${TABLE_NAME_CHARS_MAX} characters`, { details: { option: 'name' } });
    }
    let t = this.tables.get(name);
    if (t === undefined) {
      t = new Table(this.core, this.core.routesFor(name));
      this.tables.set(name, t);
    }
    return t;
  }

  /** False once `close()` was called. */
  get isOpen(): boolean {
    return this.core.isOpen;
  }

  /**
   * Closes the client: new calls fail with CANCELLED; calls in flight may finish within
   * `closeTimeoutMs`, then are cancelled (a cancelled write that was already sent fails
   * with UNKNOWN_OUTCOME); the route watch and every channel are closed. Idempotent.
   */
  close(): Promise<void> {
    return this.core.close();
  }

  /** @internal For tests: the client's shared state. */
  get _core(): ClientCore {
    return this.core;
  }
}
