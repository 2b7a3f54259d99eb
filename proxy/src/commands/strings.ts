/**
 * String commands, executed by the backend (`run: backend`): the proxy checks name,
 * arity and permissions and forwards them to `Backend.exec` for the selected table.
 * The data-model work adds the rest of the family the same way.
 */
import type { CommandDef } from './types.js';

const ONE_KEY = { first: 1, last: 1, step: 1 } as const;

export const GET: CommandDef = {
  name: 'get', arity: 2, flags: ['readonly', 'fast'], keys: ONE_KEY, categories: ['string'],
  doc: { summary: 'Returns the string value of a key.', since: '1.0.0', group: 'string', complexity: 'O(1)', args: [{ name: 'key', type: 'key' }] },
  run: { kind: 'backend' },
};

export const SET: CommandDef = {
  name: 'set', arity: -3, flags: ['write', 'denyoom'], keys: ONE_KEY, categories: ['string'],
  doc: {
    summary: 'Sets the string value of a key, ignoring its type. The key is created if it doesn\'t exist.', since: '1.0.0', group: 'string', complexity: 'O(1)',
    args: [
      { name: 'key', type: 'key' },
      { name: 'value', type: 'string' },
      { name: 'condition', type: 'oneof', optional: true, arguments: [{ name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' }] },
      { name: 'get', type: 'pure-token', token: 'GET', optional: true },
      { name: 'expiration', type: 'oneof', optional: true, arguments: [
        { name: 'seconds', type: 'integer', token: 'EX' }, { name: 'milliseconds', type: 'integer', token: 'PX' },
        { name: 'unix-time-seconds', type: 'unix-time', token: 'EXAT' }, { name: 'unix-time-milliseconds', type: 'unix-time', token: 'PXAT' },
        { name: 'keepttl', type: 'pure-token', token: 'KEEPTTL' },
      ] },
    ],
  },
  run: { kind: 'backend' },
};

export const INCR: CommandDef = {
  name: 'incr', arity: 2, flags: ['write', 'denyoom', 'fast'], keys: ONE_KEY, categories: ['string'],
  doc: { summary: 'Increments the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.', since: '1.0.0', group: 'string', complexity: 'O(1)', args: [{ name: 'key', type: 'key' }] },
  run: { kind: 'backend' },
};

export const MGET: CommandDef = {
  name: 'mget', arity: -2, flags: ['readonly', 'fast'], keys: { first: 1, last: -1, step: 1 }, categories: ['string'],
  doc: {
    summary: 'Atomically returns the string values of one or more keys.', since: '1.0.0', group: 'string', complexity: 'O(N) where N is the number of keys to retrieve.',
    args: [{ name: 'key', type: 'key', multiple: true }], shoalNotes: 'Keys on different shards are read shard by shard.',
  },
  run: { kind: 'backend' },
};

export const MSET: CommandDef = {
  name: 'mset', arity: -3, flags: ['write', 'denyoom'], keys: { first: 1, last: -1, step: 2 }, categories: ['string'],
  doc: {
    summary: 'Atomically creates or modifies the string values of one or more keys.', since: '1.0.1', group: 'string', complexity: 'O(N) where N is the number of keys to set.',
    args: [{ name: 'data', type: 'block', multiple: true, arguments: [{ name: 'key', type: 'key' }, { name: 'value', type: 'string' }] }],
    shoalNotes: 'Atomic per shard; keys on different shards are written shard by shard.',
  },
  run: { kind: 'backend' },
};
