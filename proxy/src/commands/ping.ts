/** PING [message]: PONG, or the message as a bulk string. */
import { bulk, PONG } from '../resp/reply.js';
import { arityError } from './table.js';
import type { CommandDef } from './types.js';

export const PING: CommandDef = {
  name: 'ping',
  arity: -1,
  flags: ['fast'],
  categories: ['connection'],
  doc: {
    summary: 'Returns the server\'s liveliness response.', since: '1.0.0', group: 'connection', complexity: 'O(1)',
    args: [{ name: 'message', type: 'string', optional: true }],
  },
  run: {
    kind: 'local',
    handler: ({ argv, spec }) => {
      // Redis checks "at most one argument" in the handler, so inside MULTI it fails at EXEC.
      if (argv.length > 2) return arityError(spec.fullName);
      return argv.length === 1 ? PONG : bulk(argv[1]!);
    },
  },
};
