/**
 * CONFIG GET | SET | RESETSTAT | REWRITE | HELP. GET answers every parameter listed in
 * settings.ts (glob patterns, several at once, like Redis 7); SET changes the per-proxy
 * ones atomically (all or none) and explains why the others cannot change here.
 */
import { globMatch } from '@shoal/common';
import { bulk, err, map, OK } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import { CONFIG_PARAMS, configParam } from '../settings.js';
import { arityError } from './table.js';
import { errWith, helpReply } from './util.js';
import type { CommandContext, CommandDef } from './types.js';

function get({ argv, server }: CommandContext): Reply {
  const patterns = argv.slice(2);
  const chosen = CONFIG_PARAMS.filter((p) => patterns.some((pat) => globMatch(pat, p.name, true)));
  return map(chosen.map((p) => [p.name, bulk(p.get(server.settings))] as const));
}

function setFailed(name: string, reason: string): Reply {
  return err(`CONFIG SET failed (possibly related to argument '${name}') - ${reason}`);
}

function setParams({ argv, server, spec }: CommandContext): Reply {
  if (argv.length % 2 !== 0) return arityError(spec.fullName);
  const changes: { apply: () => void }[] = [];
  const seen = new Set<string>();
  for (let i = 2; i < argv.length; i += 2) {
    const param = configParam(argv[i]!.toString('latin1'));
    if (param === undefined) return errWith('Unknown option or number of arguments for CONFIG SET - \'', argv[i]!, '\'');
    if (seen.has(param.name)) return setFailed(param.name, 'duplicate parameter');
    seen.add(param.name);
    if (param.set === undefined) return setFailed(param.name, `can't set on a Shoal proxy: ${param.fixed ?? 'fixed'}`);
    const parsed = param.set.parse(argv[i + 1]!.toString('latin1'));
    if (!parsed.ok) return setFailed(param.name, parsed.reason);
    const setter = param.set;
    changes.push({ apply: () => setter.apply(server.settings, parsed.value) });
  }
  for (const c of changes) c.apply();
  server.slowlog.trim(server.settings.slowlogMaxLen);
  return OK;
}

const FLAGS: CommandDef['flags'] = ['admin', 'noscript', 'loading', 'stale'];

export const CONFIG: CommandDef = {
  name: 'config',
  arity: -2,
  flags: [],
  categories: [],
  doc: { summary: 'A container for server configuration commands.', since: '2.0.0', group: 'server', complexity: 'Depends on subcommand.' },
  run: { kind: 'container' },
  subcommands: [
    {
      name: 'get', arity: -3, flags: FLAGS, categories: [],
      doc: {
        summary: 'Returns the effective values of configuration parameters.', since: '2.0.0', group: 'server', complexity: 'O(N) when N is the number of configuration parameters provided',
        args: [{ name: 'parameter', type: 'string', multiple: true }],
        shoalNotes: 'Answers the settings clients ask for; per-proxy values are live, the rest describe Shoal (see settings.ts).',
      },
      run: { kind: 'local', handler: get },
    },
    {
      name: 'set', arity: -4, flags: FLAGS, categories: [],
      doc: {
        summary: 'Sets configuration parameters in-flight.', since: '2.0.0', group: 'server', complexity: 'O(N) when N is the number of configuration parameters provided',
        args: [{ name: 'data', type: 'block', multiple: true, arguments: [{ name: 'parameter', type: 'string' }, { name: 'value', type: 'string' }] }],
        shoalNotes: 'Changes this proxy process only: timeout, maxclients, slowlog-log-slower-than, slowlog-max-len, proto-max-bulk-len, client-query-buffer-limit.',
      },
      run: { kind: 'local', handler: setParams },
    },
    {
      name: 'resetstat', arity: 2, flags: FLAGS, categories: [],
      doc: { summary: 'Resets the server\'s statistics.', since: '2.0.0', group: 'server', complexity: 'O(1)' },
      run: {
        kind: 'local',
        handler: ({ server }) => {
          server.resetStats();
          return OK;
        },
      },
    },
    {
      name: 'rewrite', arity: 2, flags: FLAGS, categories: [],
      doc: { summary: 'Persists the effective configuration to file.', since: '2.8.0', group: 'server', complexity: 'O(1)', shoalNotes: 'Not supported: edit the proxy\'s config file.' },
      run: { kind: 'local', handler: () => err('CONFIG REWRITE is not supported by the Shoal proxy; edit its config file') },
    },
    {
      name: 'help', arity: 2, flags: ['loading', 'stale'], categories: [],
      doc: { summary: 'Returns helpful text about the different subcommands.', since: '5.0.0', group: 'server', complexity: 'O(1)' },
      run: {
        kind: 'local',
        handler: () => helpReply('config', [
          'GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.',
          'SET <directive> <value>', '    Set the configuration <directive> to <value>.',
          'RESETSTAT', '    Reset statistics reported by the INFO command.',
          'REWRITE', '    Not supported by the Shoal proxy.',
        ]),
      },
    },
  ],
};
