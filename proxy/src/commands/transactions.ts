/**
 * MULTI / EXEC / DISCARD / WATCH / UNWATCH: Redis' transaction state machine, kept per
 * connection; the atomic execution of the queued data commands is the backend's
 * (`Backend.transaction`), with the WATCH stamps taken earlier.
 *
 * Queueing happens in the connection's dispatch (connection.ts): a command rejected while
 * queueing (unknown, wrong arity, NOPERM, not allowed in a transaction) marks the MULTI
 * dirty and EXEC answers EXECABORT. At EXEC, data commands go to the backend as one
 * transaction, each on the table selected at its place in the queue (SELECT inside MULTI
 * counts); local commands (PING, ECHO, SELECT, CLIENT SETNAME…) run after the backend
 * has committed, so a failed WATCH leaves the connection untouched as in Redis.
 */
import type { TransactionCommand } from '../backend.js';
import { array, err, EXECABORT, NULL_ARRAY, OK } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import { intArg } from './util.js';
import type { CommandContext, CommandDef, QueuedCommand } from './types.js';

const TX_FLAGS: CommandDef['flags'] = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];
const TX: CommandDef['categories'] = ['transaction'];

/** The table each queued command will run on, following SELECTs in the queue. */
function tablesOf(queued: readonly QueuedCommand[], start: string, databases: readonly string[]): string[] {
  let table = start;
  return queued.map((q) => {
    const current = table;
    if (q.spec.fullName === 'select') {
      const id = intArg(q.argv[1]);
      const next = id === null || id < 0 ? undefined : databases[id];
      if (next !== undefined) table = next;
    }
    return current;
  });
}

async function runLocal(ctx: CommandContext, q: QueuedCommand): Promise<Reply> {
  const run = q.spec.run;
  if (run.kind === 'backend' || run.handler === undefined) return err(`command ${q.spec.fullName} cannot run here`);
  try {
    return await run.handler({ argv: q.argv, spec: q.spec, client: ctx.client, server: ctx.server, inTransaction: true });
  } catch (e) {
    return ctx.client.replyForThrown(e);
  }
}

function exec(ctx: CommandContext): Reply | Promise<Reply> {
  const { client, server } = ctx;
  const multi = client.multi;
  if (multi === null) return err('EXEC without MULTI');
  client.multi = null;
  const watches = client.watched;
  client.watched = [];
  if (multi.dirty) return EXECABORT;
  const queued = multi.queued;
  const startedMs = server.clock();
  const tables = tablesOf(queued, client.table, server.config.databases);
  const replies: (Reply | undefined)[] = new Array<Reply | undefined>(queued.length);
  const data: TransactionCommand[] = [];
  const dataAt: number[] = [];
  queued.forEach((q, i) => {
    if (q.spec.run.kind !== 'backend') return;
    const denied = client.permissionError(q.spec, tables[i]!);
    if (denied !== null) replies[i] = denied;
    else {
      data.push({ table: tables[i]!, args: q.argv });
      dataAt.push(i);
    }
  });
  const committed = data.length === 0 && watches.length === 0
    ? Promise.resolve<readonly Reply[] | null>([])
    : client.backendCall(async (backend, options) => {
      // WATCHes earlier in the lane have settled by now: their stamps are ready.
      const stamps = await Promise.all(watches.map((w) => w.stamps));
      if (stamps.some((s) => s === null)) return null;
      return backend.transaction(data, stamps.flatMap((s) => s ?? []), options);
    });
  const result = committed.then(async (results) => {
    if (results === null) return NULL_ARRAY;
    results.forEach((r, k) => { replies[dataAt[k]!] = r; });
    for (let i = 0; i < queued.length; i++) {
      if (replies[i] === undefined) replies[i] = await runLocal(ctx, queued[i]!);
    }
    const done = replies as Reply[];
    queued.forEach((q, i) => client.recordQueued(q.spec, q.argv, startedMs, done[i]!));
    return array(done);
  });
  // Queued local commands (SELECT, HELLO, CLIENT SETNAME…) change the connection when EXEC
  // commits; the client's next command must see that, so it waits.
  if (queued.some((q) => q.spec.run.kind !== 'backend')) client.holdDispatch(result);
  return result;
}

function watch({ argv, client, server }: CommandContext): Reply | Promise<Reply> {
  if (client.multi !== null) return err('WATCH inside MULTI is not allowed');
  const table = client.table;
  const already = (k: Buffer): boolean => client.watched.some((w) => w.table === table && w.keys.some((o) => o.equals(k)));
  const fresh = argv.slice(1).filter((k, i, all) => all.findIndex((o) => o.equals(k)) === i && !already(k));
  const count = client.watched.reduce((n, w) => n + w.keys.length, 0);
  if (count + fresh.length > server.config.watchKeysMax) {
    return err(`too many watched keys (watchKeysMax is ${server.config.watchKeysMax})`);
  }
  if (fresh.length === 0) return OK;
  const keys = fresh.map((k) => Buffer.from(k));
  const call = client.backendCall((backend, options) => backend.watch(table, keys, options));
  client.watched.push({ table, keys, stamps: call.then((s) => s, () => null) });
  return call.then(() => OK);
}

export const MULTI: CommandDef = {
  name: 'multi', arity: 1, flags: TX_FLAGS, categories: TX,
  doc: { summary: 'Starts a transaction.', since: '1.2.0', group: 'transactions', complexity: 'O(1)' },
  run: {
    kind: 'local',
    handler: ({ client }) => {
      if (client.multi !== null) return err('MULTI calls can not be nested');
      client.multi = { queued: [], dirty: false, queuedBytes: 0 };
      return OK;
    },
  },
};

export const EXEC: CommandDef = {
  name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], categories: TX,
  doc: {
    summary: 'Executes all commands in a transaction.', since: '1.2.0', group: 'transactions', complexity: 'Depends on commands in the transaction',
    shoalNotes: 'Atomic when every key is on one shard; otherwise -CROSSSLOT. DBSIZE, FLUSHDB, FLUSHALL and SCAN cannot be queued.',
  },
  run: { kind: 'local', handler: exec },
};

export const DISCARD: CommandDef = {
  name: 'discard', arity: 1, flags: TX_FLAGS, categories: TX,
  doc: { summary: 'Discards a transaction.', since: '2.0.0', group: 'transactions', complexity: 'O(N), when N is the number of queued commands' },
  run: {
    kind: 'local',
    handler: ({ client }) => {
      if (client.multi === null) return err('DISCARD without MULTI');
      client.multi = null;
      client.watched = [];
      return OK;
    },
  },
};

export const WATCH: CommandDef = {
  name: 'watch', arity: -2, flags: TX_FLAGS, keys: { first: 1, last: -1, step: 1 }, categories: TX,
  doc: {
    summary: 'Monitors changes to keys to determine the execution of a transaction.', since: '2.2.0', group: 'transactions',
    complexity: 'O(1) for every key.', args: [{ name: 'key', type: 'key', multiple: true }],
  },
  run: { kind: 'local', handler: watch },
};

export const UNWATCH: CommandDef = {
  name: 'unwatch', arity: 1, flags: TX_FLAGS, categories: TX,
  doc: { summary: 'Forgets about watched keys of a transaction.', since: '2.2.0', group: 'transactions', complexity: 'O(1)' },
  run: {
    kind: 'local',
    handler: ({ client }) => {
      client.watched = [];
      return OK;
    },
  },
};
