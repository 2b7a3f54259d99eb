/**
 * DBSIZE, FLUSHDB, FLUSHALL, SCAN: table-wide operations, through the backend's dedicated
 * calls (see backend.ts) and in order with the client's other backend work. They cannot
 * be queued in MULTI (a backend transaction is a list of data commands).
 */
import { array, bulk, error, integer, NOT_INTEGER, OK, SYNTAX_ERROR } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import { asciiLower } from './table.js';
import { errWith, intArg, isWord } from './util.js';
import type { CommandContext, CommandDef } from './types.js';

/** Redis' getFlushCommandFlags: nothing, ASYNC or SYNC. */
function flushArgsError(argv: readonly Buffer[]): Reply | null {
  if (argv.length > 2) return SYNTAX_ERROR;
  if (argv.length === 2 && !isWord(argv[1], 'sync') && !isWord(argv[1], 'async')) return SYNTAX_ERROR;
  return null;
}

const FLUSH_ARGS = [{
  name: 'flush-type', type: 'oneof', optional: true,
  arguments: [{ name: 'async', type: 'pure-token', token: 'ASYNC' }, { name: 'sync', type: 'pure-token', token: 'SYNC' }],
}] as const;

function flushall({ argv, client, server }: CommandContext): Reply | Promise<Reply> {
  const bad = flushArgsError(argv);
  if (bad !== null) return bad;
  const tables = [...new Set(server.config.databases)];
  const denied = tables.find((t) => !server.acl.canAccessTable(client.user, t));
  if (denied !== undefined) return error(`NOPERM User ${client.user.name} has no permissions to access the '${denied}' table`);
  return client.backendCall(async (backend, options) => {
    for (const t of tables) await backend.flush(t, options);
    return OK;
  });
}

/** SCAN COUNT default, as in Redis. */
const SCAN_COUNT_DEFAULT = 10;

function scan({ argv, client }: CommandContext): Reply | Promise<Reply> {
  const cursor = argv[1]!.toString('latin1');
  if (!/^\d+$/.test(cursor) || BigInt(cursor) > 0xffffffffffffffffn) return errWith('invalid cursor');
  let count = SCAN_COUNT_DEFAULT;
  let match: Buffer | undefined;
  let type: string | undefined;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = asciiLower(argv[i]!);
    const value = argv[i + 1];
    if (value === undefined) return SYNTAX_ERROR;
    if (opt === 'count') {
      const n = intArg(value);
      if (n === null) return NOT_INTEGER;
      if (n < 1) return SYNTAX_ERROR;
      count = n;
    } else if (opt === 'match') {
      match = Buffer.from(value);
    } else if (opt === 'type') {
      type = asciiLower(value);
    } else {
      return SYNTAX_ERROR;
    }
  }
  const table = client.table;
  return client.backendCall((backend, options) => backend.scan(table, cursor, { ...options, count, ...(match === undefined ? {} : { match }), ...(type === undefined ? {} : { type }) }))
    .then((page) => array([bulk(page.cursor), array(page.keys.map((k) => bulk(k)))]));
}

export const DBSIZE: CommandDef = {
  name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], categories: ['keyspace'], notInTransaction: true,
  doc: { summary: 'Returns the number of keys in the database.', since: '1.0.0', group: 'server', complexity: 'O(1)', shoalNotes: 'Counts the keys of the selected table across the cluster.' },
  run: {
    kind: 'local',
    handler: ({ client }) => {
      const table = client.table;
      return client.backendCall((backend, options) => backend.dbsize(table, options)).then((n) => integer(n));
    },
  },
};

export const FLUSHDB: CommandDef = {
  name: 'flushdb', arity: -1, flags: ['write'], categories: ['keyspace', 'dangerous'], notInTransaction: true,
  doc: {
    summary: 'Removes all keys from the current database.', since: '1.0.0', group: 'server', complexity: 'O(N) where N is the number of keys in the selected database',
    args: FLUSH_ARGS, shoalNotes: 'Deletes every key of the selected table in the cluster (a range delete); ASYNC and SYNC behave alike.',
  },
  run: {
    kind: 'local',
    handler: ({ argv, client }) => {
      const bad = flushArgsError(argv);
      if (bad !== null) return bad;
      const table = client.table;
      return client.backendCall((backend, options) => backend.flush(table, options)).then(() => OK);
    },
  },
};

export const FLUSHALL: CommandDef = {
  name: 'flushall', arity: -1, flags: ['write'], categories: ['keyspace', 'dangerous'], notInTransaction: true,
  doc: {
    summary: 'Removes all keys from all databases.', since: '1.0.0', group: 'server', complexity: 'O(N) where N is the total number of keys in all databases',
    args: FLUSH_ARGS, shoalNotes: 'Deletes every key of every table in the proxy\'s `databases` list.',
  },
  run: { kind: 'local', handler: flushall },
};

export const SCAN: CommandDef = {
  name: 'scan', arity: -2, flags: ['readonly'], categories: ['keyspace'], notInTransaction: true,
  doc: {
    summary: 'Iterates over the key names in the database.', since: '2.8.0', group: 'generic',
    complexity: 'O(1) for every call. O(N) for a complete iteration.',
    args: [
      { name: 'cursor', type: 'integer' },
      { name: 'pattern', type: 'pattern', token: 'MATCH', optional: true },
      { name: 'count', type: 'integer', token: 'COUNT', optional: true },
      { name: 'type', type: 'string', token: 'TYPE', optional: true },
    ],
  },
  run: { kind: 'local', handler: scan },
};
