/**
 * AUTH [username] password: authenticates as a configured user (`default` when no user
 * name is given), with Redis' replies: +OK, `-WRONGPASS …`, or an error when the
 * default user needs no password.
 */
import { err, OK, SYNTAX_ERROR, WRONGPASS } from '../resp/reply.js';
import type { CommandDef } from './types.js';

export const AUTH: CommandDef = {
  name: 'auth',
  arity: -2,
  flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy', 'skip_slowlog'],
  categories: ['connection'],
  doc: {
    summary: 'Authenticates the connection.', since: '1.0.0', group: 'connection',
    complexity: 'O(N) where N is the number of passwords defined for the user',
    args: [{ name: 'username', type: 'string', optional: true }, { name: 'password', type: 'string' }],
    shoalNotes: 'Users, passwords and permissions come from the proxy config (`requirePass`, `users`).',
  },
  run: {
    kind: 'local',
    handler: ({ argv, client, server }) => {
      if (argv.length > 3) return SYNTAX_ERROR;
      const acl = server.acl;
      if (argv.length === 2 && acl.defaultUser.nopass) {
        return err('AUTH <password> called without any password configured for the default user. '
          + 'Are you sure your configuration is correct?');
      }
      const name = argv.length === 2 ? Buffer.from('default') : argv[1]!;
      const user = acl.authenticate(name, argv[argv.length - 1]!);
      if (user === null) return WRONGPASS;
      client.user = user;
      client.authenticated = true;
      return OK;
    },
  },
};
