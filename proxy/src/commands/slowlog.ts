/** SLOWLOG GET [count] | LEN | RESET | HELP: this proxy's slow commands (see ../slowlog.ts). */
import { err, integer, OK } from '../resp/reply.js';
import { helpReply, intArg } from './util.js';
import type { CommandDef } from './types.js';

const FLAGS: CommandDef['flags'] = ['admin', 'loading', 'stale'];
/** Entries SLOWLOG GET returns without a count, as in Redis. */
const DEFAULT_COUNT = 10;

export const SLOWLOG: CommandDef = {
  name: 'slowlog',
  arity: -2,
  flags: [],
  categories: [],
  doc: { summary: 'A container for slow log commands.', since: '2.2.12', group: 'server', complexity: 'Depends on subcommand.' },
  run: { kind: 'container' },
  subcommands: [
    {
      name: 'get', arity: -2, flags: FLAGS, categories: [],
      doc: {
        summary: 'Returns the slow log\'s entries.', since: '2.2.12', group: 'server', complexity: 'O(N) where N is the number of entries returned',
        args: [{ name: 'count', type: 'integer', optional: true }],
        shoalNotes: 'Durations are measured in the proxy, backend round trips included.',
      },
      run: {
        kind: 'local',
        handler: ({ argv, server }) => {
          let count = DEFAULT_COUNT;
          if (argv.length > 3) return err('wrong number of arguments for \'slowlog|get\' command');
          if (argv.length === 3) {
            const n = intArg(argv[2]);
            if (n === null || n < -1) return err('count should be greater than or equal to -1');
            count = n;
          }
          return server.slowlog.get(count);
        },
      },
    },
    {
      name: 'len', arity: 2, flags: FLAGS, categories: [],
      doc: { summary: 'Returns the number of entries in the slow log.', since: '2.2.12', group: 'server', complexity: 'O(1)' },
      run: { kind: 'local', handler: ({ server }) => integer(server.slowlog.length) },
    },
    {
      name: 'reset', arity: 2, flags: FLAGS, categories: [],
      doc: { summary: 'Clears all entries from the slow log.', since: '2.2.12', group: 'server', complexity: 'O(N) where N is the number of entries in the slowlog' },
      run: {
        kind: 'local',
        handler: ({ server }) => {
          server.slowlog.reset();
          return OK;
        },
      },
    },
    {
      name: 'help', arity: 2, flags: ['loading', 'stale'], categories: [],
      doc: { summary: 'Show helpful text about the different subcommands', since: '6.2.0', group: 'server', complexity: 'O(1)' },
      run: {
        kind: 'local',
        handler: () => helpReply('slowlog', [
          'GET [<count>]', '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
          'LEN', '    Return the length of the slowlog.',
          'RESET', '    Reset the slowlog.',
        ]),
      },
    },
  ],
};
