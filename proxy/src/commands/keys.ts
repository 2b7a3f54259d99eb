/** Generic key commands, executed by the backend like the string commands (see strings.ts). */
import type { CommandDef } from './types.js';

const ONE_KEY = { first: 1, last: 1, step: 1 } as const;
const ALL_KEYS = { first: 1, last: -1, step: 1 } as const;

export const DEL: CommandDef = {
  name: 'del', arity: -2, flags: ['write'], keys: ALL_KEYS, categories: ['keyspace'],
  doc: {
    summary: 'Deletes one or more keys.', since: '1.0.0', group: 'generic', complexity: 'O(N) where N is the number of keys that will be removed.',
    args: [{ name: 'key', type: 'key', multiple: true }], shoalNotes: 'Keys on different shards are deleted shard by shard.',
  },
  run: { kind: 'backend' },
};

export const EXISTS: CommandDef = {
  name: 'exists', arity: -2, flags: ['readonly', 'fast'], keys: ALL_KEYS, categories: ['keyspace'],
  doc: { summary: 'Determines whether one or more keys exist.', since: '1.0.0', group: 'generic', complexity: 'O(N) where N is the number of keys to check.', args: [{ name: 'key', type: 'key', multiple: true }] },
  run: { kind: 'backend' },
};

export const EXPIRE: CommandDef = {
  name: 'expire', arity: -3, flags: ['write', 'fast'], keys: ONE_KEY, categories: ['keyspace'],
  doc: {
    summary: 'Sets the expiration time of a key in seconds.', since: '1.0.0', group: 'generic', complexity: 'O(1)',
    args: [
      { name: 'key', type: 'key' }, { name: 'seconds', type: 'integer' },
      { name: 'condition', type: 'oneof', optional: true, arguments: [
        { name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' },
        { name: 'gt', type: 'pure-token', token: 'GT' }, { name: 'lt', type: 'pure-token', token: 'LT' },
      ] },
    ],
  },
  run: { kind: 'backend' },
};

export const TTL: CommandDef = {
  name: 'ttl', arity: 2, flags: ['readonly', 'fast'], keys: ONE_KEY, categories: ['keyspace'],
  doc: { summary: 'Returns the expiration time in seconds of a key.', since: '1.0.0', group: 'generic', complexity: 'O(1)', args: [{ name: 'key', type: 'key' }] },
  run: { kind: 'backend' },
};
