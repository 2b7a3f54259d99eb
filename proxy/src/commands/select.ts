/**
 * SELECT index: switches the client to the table the `databases` config maps the index to
 * (index 0 is the first entry, `default` unless configured).
 */
import { err, error, NOT_INTEGER, OK } from '../resp/reply.js';
import { intArg } from './util.js';
import type { CommandDef } from './types.js';

const INT_MAX = 2 ** 31 - 1;

export const SELECT: CommandDef = {
  name: 'select',
  arity: 2,
  flags: ['loading', 'stale', 'fast'],
  categories: ['connection'],
  doc: {
    summary: 'Changes the selected database.', since: '1.0.0', group: 'connection', complexity: 'O(1)',
    args: [{ name: 'index', type: 'integer' }],
    shoalNotes: 'Database n is the table at index n of the proxy\'s `databases` list; db 0 is `default` unless configured.',
  },
  run: {
    kind: 'local',
    handler: ({ argv, client, server }) => {
      const id = intArg(argv[1]);
      if (id === null || id > INT_MAX || id < -INT_MAX - 1) return NOT_INTEGER;
      const table = id >= 0 ? server.config.databases[id] : undefined;
      if (table === undefined) return err('DB index is out of range');
      if (!server.acl.canAccessTable(client.user, table)) {
        return error(`NOPERM User ${client.user.name} has no permissions to access the '${table}' table`);
      }
      client.db = id;
      client.table = table;
      return OK;
    },
  },
};
