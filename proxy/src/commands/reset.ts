/**
 * RESET: back to a fresh connection's state — MULTI discarded, keys unwatched, db 0,
 * RESP2, no name, authenticated as a new connection would be. Replies +RESET.
 */
import { simple } from '../resp/reply.js';
import type { CommandDef } from './types.js';

export const RESET: CommandDef = {
  name: 'reset',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
  categories: ['connection'],
  doc: { summary: 'Resets the connection.', since: '6.2.0', group: 'connection', complexity: 'O(1)' },
  run: {
    kind: 'local',
    handler: ({ client, server }) => {
      client.multi = null;
      client.watched = [];
      client.db = 0;
      client.table = server.config.databases[0]!;
      client.resp = 2;
      client.name = '';
      client.user = server.acl.defaultUser;
      client.authenticated = server.acl.defaultAuthenticated;
      return simple('RESET');
    },
  },
};
