/**
 * COMMAND [COUNT | INFO | DOCS | LIST | GETKEYS | HELP]: the command table as Redis 7
 * publishes it. Clients use COMMAND INFO for key positions and flags, redis-cli uses
 * COMMAND DOCS for its argument hints.
 */
import { globMatch } from '@shoal/common';
import { array, bulk, err, integer, map, NULL_BULK, set, simple, SYNTAX_ERROR } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import { asciiLower } from './table.js';
import type { CommandSpec } from './table.js';
import { helpReply, isWord } from './util.js';
import type { ArgSpec, CommandContext, CommandDef } from './types.js';

function keySpecs(spec: CommandSpec): Reply {
  const { first, last, step } = spec.keys;
  if (first === 0) return array([]);
  const flags = spec.flags.has('write') ? ['RW', 'update'] : ['RO', 'access'];
  return array([map([
    ['flags', set(flags.map((f) => simple(f)))],
    ['begin_search', map([['type', bulk('index')], ['spec', map([['index', integer(first)]])]])],
    ['find_keys', map([['type', bulk('range')], ['spec', map([
      ['lastkey', integer(last < 0 ? last : last - first)], ['keystep', integer(step)], ['limit', integer(0)],
    ])]])],
  ])]);
}

/** One COMMAND INFO entry: Redis 7's ten fields. */
export function commandInfo(spec: CommandSpec): Reply {
  return array([
    bulk(spec.fullName),
    integer(spec.arity),
    set([...spec.flags].map((f) => simple(f))),
    integer(spec.keys.first),
    integer(spec.keys.last),
    integer(spec.keys.step),
    set(spec.categories.map((c) => simple(`@${c}`))),
    set([]),
    keySpecs(spec),
    array([...spec.subcommands.values()].map(commandInfo)),
  ]);
}

function argDoc(a: ArgSpec, firstKey: { index: number }): Reply {
  const entries: [string, Reply][] = [['name', bulk(a.name)], ['type', bulk(a.type)]];
  if (a.type === 'key') entries.push(['key_spec_index', integer(firstKey.index)]);
  if (a.token !== undefined) entries.push(['token', bulk(a.token)]);
  const flags = [...(a.optional === true ? ['optional'] : []), ...(a.multiple === true ? ['multiple'] : [])];
  if (flags.length > 0) entries.push(['flags', set(flags.map((f) => simple(f)))]);
  if (a.arguments !== undefined) entries.push(['arguments', array(a.arguments.map((s) => argDoc(s, firstKey)))]);
  return map(entries);
}

/** One COMMAND DOCS entry. */
export function commandDoc(spec: CommandSpec): Reply {
  const d = spec.def.doc;
  const entries: [string, Reply][] = [['summary', bulk(d.summary)], ['since', bulk(d.since)], ['group', bulk(d.group)]];
  if (d.complexity !== undefined) entries.push(['complexity', bulk(d.complexity)]);
  if (d.args !== undefined) entries.push(['arguments', array(d.args.map((a) => argDoc(a, { index: 0 })))]);
  if (spec.subcommands.size > 0) {
    entries.push(['subcommands', map([...spec.subcommands.values()].map((s) => [s.fullName, commandDoc(s)] as const))]);
  }
  return map(entries);
}

function docs({ argv, server }: CommandContext): Reply {
  const specs = argv.length > 2
    ? argv.slice(2).map((a) => server.commands.getFull(asciiLower(a))).filter((s): s is CommandSpec => s !== undefined)
    : server.commands.all();
  return map(specs.map((s) => [s.fullName, commandDoc(s)] as const));
}

function info({ argv, server }: CommandContext): Reply {
  if (argv.length === 2) return array(server.commands.all().map(commandInfo));
  return array(argv.slice(2).map((a) => {
    const spec = server.commands.getFull(asciiLower(a));
    return spec === undefined ? NULL_BULK : commandInfo(spec);
  }));
}

function list({ argv, server }: CommandContext): Reply {
  const all = server.commands.allWithSubcommands();
  if (argv.length === 2) return array(all.map((s) => bulk(s.fullName)));
  if (argv.length !== 5 || !isWord(argv[2], 'filterby')) return SYNTAX_ERROR;
  const kind = asciiLower(argv[3]!);
  const value = argv[4]!;
  if (kind === 'module') return array([]);
  if (kind === 'aclcat') {
    const cat = asciiLower(value);
    return array(all.filter((s) => (s.categories as readonly string[]).includes(cat)).map((s) => bulk(s.fullName)));
  }
  if (kind === 'pattern') return array(all.filter((s) => globMatch(value, s.fullName, true)).map((s) => bulk(s.fullName)));
  return SYNTAX_ERROR;
}

function getkeys({ argv, server }: CommandContext): Reply {
  const inner = argv.slice(2);
  const looked = server.commands.lookup(inner);
  if (!looked.ok) {
    if (server.commands.get(asciiLower(inner[0]!)) === undefined) return err('Invalid command specified');
    return err('Invalid number of arguments specified for command');
  }
  if (looked.spec.keys.first === 0) return err('The command has no key arguments');
  return array(server.commands.keysOf(looked.spec, inner).map((k) => bulk(k)));
}

const FLAGS: CommandDef['flags'] = ['loading', 'stale'];
const CATS: CommandDef['categories'] = ['connection'];

export const COMMAND: CommandDef = {
  name: 'command',
  arity: -1,
  flags: FLAGS,
  categories: CATS,
  doc: { summary: 'Returns detailed information about all commands.', since: '2.8.13', group: 'server', complexity: 'O(N) where N is the total number of Redis commands' },
  run: { kind: 'container', handler: ({ server }) => array(server.commands.all().map(commandInfo)) },
  subcommands: [
    {
      name: 'count', arity: 2, flags: FLAGS, categories: CATS,
      doc: { summary: 'Returns a count of commands.', since: '2.8.13', group: 'server', complexity: 'O(1)' },
      run: { kind: 'local', handler: ({ server }) => integer(server.commands.size) },
    },
    {
      name: 'info', arity: -2, flags: FLAGS, categories: CATS,
      doc: { summary: 'Returns information about one, multiple or all commands.', since: '2.8.13', group: 'server', complexity: 'O(N) where N is the number of commands to look up', args: [{ name: 'command-name', type: 'string', optional: true, multiple: true }] },
      run: { kind: 'local', handler: info },
    },
    {
      name: 'docs', arity: -2, flags: FLAGS, categories: CATS,
      doc: { summary: 'Returns documentary information about one, multiple or all commands.', since: '7.0.0', group: 'server', complexity: 'O(N) where N is the number of commands to look up', args: [{ name: 'command-name', type: 'string', optional: true, multiple: true }] },
      run: { kind: 'local', handler: docs },
    },
    {
      name: 'list', arity: -2, flags: FLAGS, categories: CATS,
      doc: {
        summary: 'Returns a list of command names.', since: '7.0.0', group: 'server', complexity: 'O(N) where N is the total number of Redis commands',
        args: [{ name: 'filterby', type: 'oneof', token: 'FILTERBY', optional: true, arguments: [
          { name: 'module-name', type: 'string', token: 'MODULE' }, { name: 'category', type: 'string', token: 'ACLCAT' }, { name: 'pattern', type: 'pattern', token: 'PATTERN' },
        ] }],
      },
      run: { kind: 'local', handler: list },
    },
    {
      name: 'getkeys', arity: -3, flags: FLAGS, categories: CATS,
      doc: { summary: 'Extracts the key names from an arbitrary command.', since: '2.8.13', group: 'server', complexity: 'O(N) where N is the number of arguments to the command', args: [{ name: 'command', type: 'string' }, { name: 'arg', type: 'string', optional: true, multiple: true }] },
      run: { kind: 'local', handler: getkeys },
    },
    {
      name: 'help', arity: 2, flags: FLAGS, categories: CATS,
      doc: { summary: 'Returns helpful text about the different subcommands.', since: '5.0.0', group: 'server', complexity: 'O(1)' },
      run: {
        kind: 'local',
        handler: () => helpReply('command', [
          '(no subcommand)', '    Return details about all commands.',
          'COUNT', '    Return the total number of commands in this server.',
          'LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]', '    Return a list of all commands in this server.',
          'INFO [<command-name> ...]', '    Return details about multiple commands.',
          'DOCS [<command-name> ...]', '    Return documentation details about multiple commands.',
          'GETKEYS <full-command>', '    Return the keys from a full command.',
        ]),
      },
    },
  ],
};
