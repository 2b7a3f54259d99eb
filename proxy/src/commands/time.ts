/** TIME: the proxy's clock as [unix seconds, microseconds], both bulk strings. */
import { array, bulk } from '../resp/reply.js';
import type { CommandDef } from './types.js';

export const TIME: CommandDef = {
  name: 'time',
  arity: 1,
  flags: ['loading', 'stale', 'fast'],
  categories: [],
  doc: { summary: 'Returns the server time.', since: '2.6.0', group: 'server', complexity: 'O(1)' },
  run: {
    kind: 'local',
    handler: ({ server }) => {
      const us = Math.floor(server.clock() * 1000);
      const sec = Math.floor(us / 1e6);
      return array([bulk(String(sec)), bulk(String(us - sec * 1e6))]);
    },
  },
};
