/**
 * HELLO [protover [AUTH username password] [SETNAME clientname]]: switches the protocol
 * (2 or 3), optionally authenticating and naming the client, and answers Redis 7's map:
 * server, version, proto, id, mode, role, modules. The proxy presents the cluster as one
 * standalone Redis 7.2 master.
 */
import { array, bulk, err, error, integer, map, WRONGPASS } from '../resp/reply.js';
import { asciiLower } from './table.js';
import { errWith, intArg, isPrintableWord } from './util.js';
import type { CommandDef } from './types.js';

/** The Redis version the proxy answers to clients (HELLO, INFO redis_version). */
export const REDIS_COMPAT_VERSION = '7.2.0';

export const HELLO: CommandDef = {
  name: 'hello',
  arity: -1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy', 'skip_slowlog'],
  categories: ['connection'],
  doc: {
    summary: 'Handshakes with the Redis server.', since: '6.0.0', group: 'connection', complexity: 'O(1)',
    args: [{
      name: 'arguments', type: 'block', optional: true, arguments: [
        { name: 'protover', type: 'integer' },
        { name: 'auth', type: 'block', token: 'AUTH', optional: true, arguments: [{ name: 'username', type: 'string' }, { name: 'password', type: 'string' }] },
        { name: 'clientname', type: 'string', token: 'SETNAME', optional: true },
      ],
    }],
  },
  run: {
    kind: 'local',
    handler: ({ argv, client, server }) => {
      let version = 0;
      if (argv.length >= 2) {
        const v = intArg(argv[1]);
        if (v === null) return err('Protocol version is not an integer or out of range');
        if (v < 2 || v > 3) return error('NOPROTO unsupported protocol version');
        version = v;
      }
      let auth: { user: Buffer; pass: Buffer } | null = null;
      let name: Buffer | null = null;
      for (let j = 2; j < argv.length; j++) {
        const more = argv.length - 1 - j;
        const opt = asciiLower(argv[j]!);
        if (opt === 'auth' && more >= 2) {
          auth = { user: argv[j + 1]!, pass: argv[j + 2]! };
          j += 2;
        } else if (opt === 'setname' && more >= 1) {
          name = argv[j + 1]!;
          if (!isPrintableWord(name)) return err('Client names cannot contain spaces, newlines or special characters.');
          j++;
        } else {
          return errWith('Syntax error in HELLO option \'', argv[j]!, '\'');
        }
      }
      if (auth !== null) {
        const user = server.acl.authenticate(auth.user, auth.pass);
        if (user === null) return WRONGPASS;
        client.user = user;
        client.authenticated = true;
      }
      if (server.acl.authRequired(client)) {
        return error('NOAUTH HELLO must be called with the client already authenticated, otherwise the '
          + 'HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select '
          + 'the RESP protocol version at the same time');
      }
      if (name !== null) client.name = name.toString('latin1');
      if (version !== 0) client.resp = version === 3 ? 3 : 2;
      return map([
        ['server', bulk('redis')],
        ['version', bulk(REDIS_COMPAT_VERSION)],
        ['proto', integer(client.resp)],
        ['id', integer(client.id)],
        ['mode', bulk('standalone')],
        ['role', bulk('master')],
        ['modules', array([])],
      ]);
    },
  },
};
