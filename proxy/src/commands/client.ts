/**
 * CLIENT ID | SETNAME | GETNAME | LIST | INFO | KILL | SETINFO | HELP — this proxy
 * process's connections, in Redis 7.2's formats (CLIENT LIST lines field for field).
 */
import { bulk, err, integer, NOT_INTEGER, NULL_BULK, OK, SYNTAX_ERROR, verbatim } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import { asciiLower } from './table.js';
import { errWith, helpReply, intArg, isPrintableWord, isWord } from './util.js';
import type { Client, CommandContext, CommandDef } from './types.js';

/** One CLIENT LIST / CLIENT INFO line, newline included. */
export function clientInfoLine(c: Client, nowMs: number): string {
  const multi = c.multi;
  const omem = c.outputBufferBytes;
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${c.fd} name=${c.name}`
    + ` age=${Math.floor((nowMs - c.createdMs) / 1000)} idle=${Math.floor((nowMs - c.lastInteractionMs) / 1000)}`
    + ` flags=${c.flagLetters} db=${c.db} sub=0 psub=0 ssub=0 multi=${multi === null ? -1 : multi.queued.length}`
    + ` qbuf=${c.queryBufferBytes} qbuf-free=0 argv-mem=0 multi-mem=${multi === null ? 0 : multi.queuedBytes}`
    + ` rbs=0 rbp=0 obl=0 oll=0 omem=${omem} tot-mem=${c.queryBufferBytes + omem}`
    + ` events=r cmd=${c.lastCommand} user=${c.user.name} redir=-1 resp=${c.resp}`
    + ` lib-name=${c.libName} lib-ver=${c.libVer}\n`;
}

const CLIENT_TYPES = new Set(['normal', 'master', 'slave', 'replica', 'pubsub']);

function list({ argv, server }: CommandContext): Reply {
  const now = server.clock();
  let chosen: Client[];
  if (argv.length === 4 && isWord(argv[2], 'type')) {
    const type = asciiLower(argv[3]!);
    if (!CLIENT_TYPES.has(type)) return errWith('Unknown client type \'', argv[3]!, '\'');
    chosen = type === 'normal' ? [...server.clients()] : [];
  } else if (argv.length > 3 && isWord(argv[2], 'id')) {
    chosen = [];
    for (const a of argv.slice(3)) {
      const id = intArg(a);
      if (id === null) return err('Invalid client ID');
      const c = server.client(id);
      if (c !== undefined) chosen.push(c);
    }
  } else if (argv.length !== 2) {
    return SYNTAX_ERROR;
  } else {
    chosen = [...server.clients()];
  }
  return verbatim(chosen.map((c) => clientInfoLine(c, now)).join(''));
}

interface KillFilter {
  id?: number;
  type?: string;
  user?: string;
  addr?: string;
  laddr?: string;
  skipMe: boolean;
  maxAgeSec?: number;
}

function parseKillFilter(argv: readonly Buffer[], ctx: CommandContext): { filter: KillFilter } | { error: Reply } {
  const f: KillFilter = { skipMe: true };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = asciiLower(argv[i]!);
    const value = argv[i + 1];
    if (value === undefined) return { error: SYNTAX_ERROR };
    if (opt === 'id') {
      const id = intArg(value);
      if (id === null || id < 1) return { error: err('client-id should be greater than 0') };
      f.id = id;
    } else if (opt === 'type') {
      f.type = asciiLower(value);
      if (!CLIENT_TYPES.has(f.type)) return { error: errWith('Unknown client type \'', value, '\'') };
    } else if (opt === 'user') {
      f.user = value.toString('utf8');
      if (ctx.server.acl.user(f.user) === undefined) return { error: errWith('No such user \'', value, '\'') };
    } else if (opt === 'addr') {
      f.addr = value.toString('latin1');
    } else if (opt === 'laddr') {
      f.laddr = value.toString('latin1');
    } else if (opt === 'skipme') {
      if (isWord(value, 'yes')) f.skipMe = true;
      else if (isWord(value, 'no')) f.skipMe = false;
      else return { error: SYNTAX_ERROR };
    } else if (opt === 'maxage') {
      const age = intArg(value);
      if (age === null) return { error: NOT_INTEGER };
      f.maxAgeSec = age;
    } else {
      return { error: SYNTAX_ERROR };
    }
  }
  return { filter: f };
}

function matches(c: Client, f: KillFilter, self: Client, nowMs: number): boolean {
  if (f.id !== undefined && c.id !== f.id) return false;
  if (f.type !== undefined && f.type !== 'normal') return false;
  if (f.user !== undefined && c.user.name !== f.user) return false;
  if (f.addr !== undefined && c.addr !== f.addr) return false;
  if (f.laddr !== undefined && c.laddr !== f.laddr) return false;
  if (f.skipMe && c === self) return false;
  if (f.maxAgeSec !== undefined && (nowMs - c.createdMs) / 1000 < f.maxAgeSec) return false;
  return true;
}

function kill(ctx: CommandContext): Reply {
  const { argv, client, server } = ctx;
  if (argv.length === 3) {
    // Old form: CLIENT KILL addr:port.
    const addr = argv[2]!.toString('latin1');
    const target = [...server.clients()].find((c) => c.addr === addr);
    if (target === undefined) return err('No such client');
    if (target === client) client.closeAfterReply();
    else target.kill('CLIENT KILL');
    return OK;
  }
  const parsed = parseKillFilter(argv, ctx);
  if ('error' in parsed) return parsed.error;
  const f = parsed.filter;
  const now = server.clock();
  let killed = 0;
  for (const c of [...server.clients()]) {
    if (!matches(c, f, client, now)) continue;
    killed++;
    if (c === client) client.closeAfterReply();
    else c.kill('CLIENT KILL');
  }
  return integer(killed);
}

function setinfo({ argv, client }: CommandContext): Reply {
  const attr = asciiLower(argv[2]!);
  if (attr !== 'lib-name' && attr !== 'lib-ver') return errWith('Unrecognized option \'', argv[2]!, '\'');
  const value = argv[3]!;
  if (!isPrintableWord(value)) return errWith(argv[2]!, ' cannot contain spaces, newlines or special characters.');
  if (attr === 'lib-name') client.libName = value.toString('latin1');
  else client.libVer = value.toString('latin1');
  return OK;
}

const CONNECTION: CommandDef['categories'] = ['connection'];
const ADMIN_FLAGS: CommandDef['flags'] = ['admin', 'noscript', 'loading', 'stale'];
const BASIC_FLAGS: CommandDef['flags'] = ['noscript', 'loading', 'stale'];

export const CLIENT: CommandDef = {
  name: 'client',
  arity: -2,
  flags: [],
  categories: [],
  doc: { summary: 'A container for client connection commands.', since: '2.4.0', group: 'connection', complexity: 'Depends on subcommand.' },
  run: { kind: 'container' },
  subcommands: [
    {
      name: 'id', arity: 2, flags: BASIC_FLAGS, categories: CONNECTION,
      doc: { summary: 'Returns the unique client ID of the connection.', since: '5.0.0', group: 'connection', complexity: 'O(1)' },
      run: { kind: 'local', handler: ({ client }) => integer(client.id) },
    },
    {
      name: 'setname', arity: 3, flags: BASIC_FLAGS, categories: CONNECTION,
      doc: { summary: 'Sets the connection name.', since: '2.6.9', group: 'connection', complexity: 'O(1)', args: [{ name: 'connection-name', type: 'string' }] },
      run: {
        kind: 'local',
        handler: ({ argv, client }) => {
          if (!isPrintableWord(argv[2]!)) return err('Client names cannot contain spaces, newlines or special characters.');
          client.name = argv[2]!.toString('latin1');
          return OK;
        },
      },
    },
    {
      name: 'getname', arity: 2, flags: BASIC_FLAGS, categories: CONNECTION,
      doc: { summary: 'Returns the name of the connection.', since: '2.6.9', group: 'connection', complexity: 'O(1)' },
      run: { kind: 'local', handler: ({ client }) => (client.name === '' ? NULL_BULK : bulk(client.name)) },
    },
    {
      name: 'list', arity: -2, flags: ADMIN_FLAGS, categories: CONNECTION,
      doc: {
        summary: 'Lists open connections.', since: '2.4.0', group: 'connection', complexity: 'O(N) where N is the number of client connections',
        args: [
          { name: 'client-type', type: 'oneof', token: 'TYPE', optional: true, arguments: [
            { name: 'normal', type: 'pure-token', token: 'NORMAL' }, { name: 'master', type: 'pure-token', token: 'MASTER' },
            { name: 'replica', type: 'pure-token', token: 'REPLICA' }, { name: 'pubsub', type: 'pure-token', token: 'PUBSUB' },
          ] },
          { name: 'client-id', type: 'integer', token: 'ID', optional: true, multiple: true },
        ],
        shoalNotes: 'Lists the connections of this proxy process only.',
      },
      run: { kind: 'local', handler: list },
    },
    {
      name: 'info', arity: 2, flags: BASIC_FLAGS, categories: CONNECTION,
      doc: { summary: 'Returns information about the connection.', since: '6.2.0', group: 'connection', complexity: 'O(1)' },
      run: { kind: 'local', handler: ({ client, server }) => verbatim(clientInfoLine(client, server.clock())) },
    },
    {
      name: 'kill', arity: -3, flags: ADMIN_FLAGS, categories: CONNECTION,
      doc: {
        summary: 'Terminates open connections.', since: '2.4.0', group: 'connection', complexity: 'O(N) where N is the number of client connections',
        args: [{ name: 'filter', type: 'oneof', arguments: [
          { name: 'old-format', type: 'string' },
          { name: 'new-format', type: 'oneof', multiple: true, arguments: [
            { name: 'client-id', type: 'integer', token: 'ID', optional: true },
            { name: 'client-type', type: 'string', token: 'TYPE', optional: true },
            { name: 'username', type: 'string', token: 'USER', optional: true },
            { name: 'addr', type: 'string', token: 'ADDR', optional: true },
            { name: 'laddr', type: 'string', token: 'LADDR', optional: true },
            { name: 'skipme', type: 'string', token: 'SKIPME', optional: true },
            { name: 'maxage', type: 'integer', token: 'MAXAGE', optional: true },
          ] },
        ] }],
        shoalNotes: 'Kills connections of this proxy process only.',
      },
      run: { kind: 'local', handler: kill },
    },
    {
      name: 'setinfo', arity: 4, flags: BASIC_FLAGS, categories: CONNECTION,
      doc: {
        summary: 'Sets information specific to the client or connection.', since: '7.2.0', group: 'connection', complexity: 'O(1)',
        args: [{ name: 'attr', type: 'oneof', arguments: [{ name: 'libname', type: 'string', token: 'LIB-NAME' }, { name: 'libver', type: 'string', token: 'LIB-VER' }] }],
      },
      run: { kind: 'local', handler: setinfo },
    },
    {
      name: 'help', arity: 2, flags: ['loading', 'stale'], categories: CONNECTION,
      doc: { summary: 'Returns helpful text about the different subcommands.', since: '5.0.0', group: 'connection', complexity: 'O(1)' },
      run: {
        kind: 'local',
        handler: () => helpReply('client', [
          'GETNAME', '    Return the name of the current connection.',
          'ID', '    Return the ID of the current connection.',
          'INFO', '    Return information about the current client connection.',
          'KILL <ip:port>', '    Kill connection made from <ip:port>.',
          'KILL <option> <value> [<option> <value> [...]]', '    Kill connections. Options are: ID, TYPE, USER, ADDR, LADDR, SKIPME, MAXAGE.',
          'LIST [options ...]', '    Return information about client connections. Options: TYPE <type>, ID <id> [<id> ...].',
          'SETNAME <name>', '    Assign the name <name> to the current connection.',
          'SETINFO <option> <value>', '    Set client meta attributes: LIB-NAME, LIB-VER.',
        ]),
      },
    },
  ],
};
