// Goal: validateConfig accepts a sane config and, for each bad option, throws a RaftConfigError naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from './config.js';
import { RaftConfigError, validateConfig } from './config.js';
import { MemoryStorage } from './storage-memory.js';
import type { PeerId } from './types.js';
import { ReadOnlyOption } from './types.js';

function good(): Config {
  return {
    id: 1 as PeerId, electionTimeoutTicks: 10, heartbeatIntervalTicks: 1, storage: new MemoryStorage(),
    rand: { intn: () => 0 }, messageBytesMax: 1024, inflightMessagesMax: 16, inflightBytesMax: 0,
    uncommittedBytesMax: 0, proposalBytesMax: 0, committedBytesPerReadyMax: 0, checkQuorum: false,
    preVote: false, readOnlyOption: ReadOnlyOption.Safe,
  };
}

function optionOf(c: Config): string | null {
  try {
    validateConfig(c);
    return null;
  } catch (e) {
    assert.ok(e instanceof RaftConfigError);
    assert.equal(e.code, 'RAFT_CONFIG_INVALID');
    assert.ok(e.message.includes(e.option));
    return e.option;
  }
}

test('a sane config is valid', () => {
  assert.equal(optionOf(good()), null);
  assert.equal(optionOf({ ...good(), checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased }), null);
});

test('each bad option is named', () => {
  const cases: [Partial<Config>, string][] = [
    [{ id: 0 as PeerId }, 'id'],
    [{ id: 1.5 as PeerId }, 'id'],
    [{ heartbeatIntervalTicks: 0 }, 'heartbeatIntervalTicks'],
    [{ electionTimeoutTicks: 1 }, 'electionTimeoutTicks'],
    [{ electionTimeoutTicks: 1.5 }, 'electionTimeoutTicks'],
    [{ messageBytesMax: 0 }, 'messageBytesMax'],
    [{ inflightMessagesMax: 0 }, 'inflightMessagesMax'],
    [{ inflightBytesMax: -1 }, 'inflightBytesMax'],
    [{ inflightBytesMax: 100 }, 'inflightBytesMax'], // smaller than messageBytesMax
    [{ uncommittedBytesMax: -1 }, 'uncommittedBytesMax'],
    [{ proposalBytesMax: Number.NaN }, 'proposalBytesMax'],
    [{ committedBytesPerReadyMax: -5 }, 'committedBytesPerReadyMax'],
    [{ applied: -1 as never }, 'applied'],
    [{ readOnlyOption: 7 as ReadOnlyOption }, 'readOnlyOption'],
  ];
  for (const [patch, option] of cases) assert.equal(optionOf({ ...good(), ...patch }), option, JSON.stringify(patch));
});

test('lease-based reads require check-quorum', () => {
  assert.equal(optionOf({ ...good(), readOnlyOption: ReadOnlyOption.LeaseBased }), 'readOnlyOption');
});
