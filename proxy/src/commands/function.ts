/**
 * FUNCTION LIST | FLUSH | STATS | HELP, answering as a server with no functions loaded:
 * client libraries and test harnesses call these on connect or between tests. Shoal runs
 * no server-side scripts.
 */
import { array, err, integer, map, NULL_BULK, OK } from '../resp/reply.js';
import { errWith, helpReply, isWord } from './util.js';
import type { CommandDef } from './types.js';

const CATS: CommandDef['categories'] = ['scripting'];

export const FUNCTION: CommandDef = {
  name: 'function',
  arity: -2,
  flags: [],
  categories: [],
  doc: { summary: 'A container for function commands.', since: '7.0.0', group: 'scripting', complexity: 'Depends on subcommand.' },
  run: { kind: 'container' },
  subcommands: [
    {
      name: 'list', arity: -2, flags: ['noscript'], categories: CATS,
      doc: {
        summary: 'Returns information about all libraries.', since: '7.0.0', group: 'scripting', complexity: 'O(N) where N is the number of functions',
        args: [{ name: 'library-name-pattern', type: 'string', token: 'LIBRARYNAME', optional: true }, { name: 'withcode', type: 'pure-token', token: 'WITHCODE', optional: true }],
        shoalNotes: 'Always empty: Shoal has no functions.',
      },
      run: {
        kind: 'local',
        handler: ({ argv }) => {
          let withCode = false;
          let library = false;
          for (let i = 2; i < argv.length; i++) {
            if (!withCode && isWord(argv[i], 'withcode')) { withCode = true; continue; }
            if (!library && isWord(argv[i], 'libraryname')) {
              if (i >= argv.length - 1) return err('library name argument was not given');
              library = true;
              i++;
              continue;
            }
            return errWith('Unknown argument ', argv[i]!);
          }
          return array([]);
        },
      },
    },
    {
      name: 'flush', arity: -2, flags: ['write', 'noscript'], categories: CATS,
      doc: {
        summary: 'Deletes all libraries and functions.', since: '7.0.0', group: 'scripting', complexity: 'O(N) where N is the number of functions deleted',
        args: [{ name: 'flush-type', type: 'oneof', optional: true, arguments: [{ name: 'async', type: 'pure-token', token: 'ASYNC' }, { name: 'sync', type: 'pure-token', token: 'SYNC' }] }],
        shoalNotes: 'A no-op: Shoal has no functions.',
      },
      run: {
        kind: 'local',
        handler: ({ argv }) => {
          if (argv.length > 3) return err('wrong number of arguments for \'function|flush\' command');
          if (argv.length === 3 && !isWord(argv[2], 'sync') && !isWord(argv[2], 'async')) {
            return err('FUNCTION FLUSH only supports SYNC|ASYNC option');
          }
          return OK;
        },
      },
    },
    {
      name: 'stats', arity: 2, flags: ['noscript', 'allow_busy'], categories: CATS,
      doc: { summary: 'Returns information about a function during execution.', since: '7.0.0', group: 'scripting', complexity: 'O(1)' },
      run: {
        kind: 'local',
        handler: () => map([
          ['running_script', NULL_BULK],
          ['engines', map([['LUA', map([['libraries_count', integer(0)], ['functions_count', integer(0)]])]])],
        ]),
      },
    },
    {
      name: 'help', arity: 2, flags: ['loading', 'stale'], categories: CATS,
      doc: { summary: 'Returns helpful text about the different subcommands.', since: '7.0.0', group: 'scripting', complexity: 'O(1)' },
      run: {
        kind: 'local',
        handler: () => helpReply('function', [
          'LIST [LIBRARYNAME <pattern>] [WITHCODE]', '    Return general information on all the libraries (always none on Shoal).',
          'FLUSH [ASYNC|SYNC]', '    Delete all the libraries (a no-op on Shoal).',
          'STATS', '    Return information about the current function running.',
        ]),
      },
    },
  ],
};


