/** ECHO message: the message as a bulk string. */
import { bulk } from '../resp/reply.js';
import type { CommandDef } from './types.js';

export const ECHO: CommandDef = {
  name: 'echo',
  arity: 2,
  flags: ['fast'],
  categories: ['connection'],
  doc: {
    summary: 'Returns the given string.', since: '1.0.0', group: 'connection', complexity: 'O(1)',
    args: [{ name: 'message', type: 'string' }],
  },
  run: { kind: 'local', handler: ({ argv }) => bulk(argv[1]!) },
};
