// Goal: the generated codecs are wire-compatible with the reference implementation —
// for random values of EVERY message, what we encode protobufjs's reflection decodes to
// the same content, and what protobufjs encodes we decode to the same value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { allCodecs, protoFiles } from './test-helpers.js';
import { assertWireCompatible } from './wire-check.js';

const RUNS_PER_TYPE = 50;

test('protobufjs resolved the long package, so its 64-bit decoding is exact', () => {
  assert.ok(protobuf.util.Long);
});

test('every message round-trips through protobufjs reflection in both directions', () => {
  const root = new protobuf.Root();
  root.loadSync(protoFiles());
  root.resolveAll();
  for (const codec of allCodecs().values()) assertWireCompatible(codec, root.lookupType(codec.typeName), RUNS_PER_TYPE);
});
