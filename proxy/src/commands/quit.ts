/** QUIT: +OK, then the connection closes once every earlier reply is written. */
import { OK } from '../resp/reply.js';
import type { CommandDef } from './types.js';

export const QUIT: CommandDef = {
  name: 'quit',
  arity: -1,
  flags: ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth'],
  categories: ['connection'],
  doc: { summary: 'Closes the connection.', since: '1.0.0', group: 'connection', complexity: 'O(1)' },
  run: {
    kind: 'local',
    handler: ({ client }) => {
      client.closeAfterReply();
      return OK;
    },
  },
};
