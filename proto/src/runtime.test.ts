// Goal: the 64-bit and range helpers of runtime.ts encode exactly what protobufjs (with
// Long) encodes, decode it back exactly, and refuse every value they cannot carry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import {
  ProtoError, Reader, Writer, checkInt32, checkUint32, readFixed64, readInt64, readSfixed64,
  readSint64, readUint64, writeFixed64, writeInt64, writeSfixed64, writeSint64, writeUint64,
} from './runtime.js';
import type { ProtoErrorCode } from './runtime.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function bytesOf(write: (w: Writer) => unknown): Uint8Array {
  const w = Writer.create();
  write(w);
  return w.finish();
}

function throwsCode(fn: () => unknown, code: ProtoErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtoError && e.code === code);
}

/** A Long-shaped value for protobufjs's writer, to produce reference encodings. */
function long(value: bigint, unsigned: boolean): protobuf.Long {
  return { low: Number(BigInt.asIntN(32, value)), high: Number(BigInt.asIntN(32, value >> 32n)), unsigned };
}

test('uint64 and int64 numbers round-trip and match protobufjs byte for byte', () => {
  fc.assert(fc.property(fc.maxSafeNat(), (n) => {
    const ours = bytesOf((w) => writeUint64(w, n, 'f'));
    assert.deepEqual(ours, bytesOf((w) => w.uint64(long(BigInt(n), true))));
    assert.equal(readUint64(Reader.create(ours), 'f'), n);
  }));
  fc.assert(fc.property(fc.maxSafeInteger(), (n) => {
    const ours = bytesOf((w) => writeInt64(w, n, 'f'));
    assert.deepEqual(ours, bytesOf((w) => w.int64(long(BigInt(n), false))));
    assert.equal(readInt64(Reader.create(ours), 'f'), n);
  }));
});

test('the safe-integer limits are accepted and the first unsafe values refused, both ways', () => {
  for (const n of [0, 1, 127, 128, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    assert.equal(readUint64(Reader.create(bytesOf((w) => writeUint64(w, n, 'f'))), 'f'), n);
    assert.equal(readInt64(Reader.create(bytesOf((w) => writeInt64(w, -n, 'f'))), 'f'), 0 - n);
    assert.equal(readFixed64(Reader.create(bytesOf((w) => writeFixed64(w, n, 'f'))), 'f'), n);
  }
  for (const bad of [2 ** 53, -(2 ** 53), 1.5, Number.NaN, Infinity]) {
    throwsCode(() => writeInt64(Writer.create(), bad, 'f'), 'PROTO_UNSAFE_INTEGER');
    throwsCode(() => writeUint64(Writer.create(), bad, 'f'), 'PROTO_UNSAFE_INTEGER');
    throwsCode(() => writeFixed64(Writer.create(), bad, 'f'), 'PROTO_UNSAFE_INTEGER');
  }
  throwsCode(() => writeUint64(Writer.create(), -1, 'f'), 'PROTO_OUT_OF_RANGE');
  throwsCode(() => writeFixed64(Writer.create(), -1, 'f'), 'PROTO_OUT_OF_RANGE');
  // On decode: values another implementation may legitimately send.
  for (const big of [2n ** 53n, 2n ** 64n - 1n]) {
    throwsCode(() => readUint64(Reader.create(bytesOf((w) => w.uint64(long(big, true)))), 'f'), 'PROTO_UNSAFE_INTEGER');
    throwsCode(() => readFixed64(Reader.create(bytesOf((w) => w.fixed64(long(big, true)))), 'f'), 'PROTO_UNSAFE_INTEGER');
  }
  for (const big of [2n ** 53n, -(2n ** 53n), INT64_MIN, INT64_MAX]) {
    throwsCode(() => readInt64(Reader.create(bytesOf((w) => w.int64(long(big, false)))), 'f'), 'PROTO_UNSAFE_INTEGER');
  }
});

test('the error names the field and says what to do', () => {
  assert.throws(() => writeUint64(Writer.create(), 2 ** 60, 'shoal.raft.Entry.term'),
    /shoal\.raft\.Entry\.term: .*not a safe integer.*sint64/);
});

test('sint64 and sfixed64 bigints cover the full int64 range and match protobufjs', () => {
  const edges = [0n, 1n, -1n, INT64_MIN, INT64_MAX, INT64_MIN + 1n, INT64_MAX - 1n, 2n ** 32n, -(2n ** 32n)];
  const check = (v: bigint): void => {
    const zz = bytesOf((w) => writeSint64(w, v, 'f'));
    assert.deepEqual(zz, bytesOf((w) => w.sint64(long(v, false))));
    assert.equal(readSint64(Reader.create(zz)), v);
    const fixed = bytesOf((w) => writeSfixed64(w, v, 'f'));
    assert.deepEqual(fixed, bytesOf((w) => w.sfixed64(long(v, false))));
    assert.equal(readSfixed64(Reader.create(fixed)), v);
  };
  edges.forEach(check);
  fc.assert(fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (v) => check(v)));
  for (const bad of [INT64_MAX + 1n, INT64_MIN - 1n, 2n ** 64n]) {
    throwsCode(() => writeSint64(Writer.create(), bad, 'f'), 'PROTO_OUT_OF_RANGE');
    throwsCode(() => writeSfixed64(Writer.create(), bad, 'f'), 'PROTO_OUT_OF_RANGE');
  }
});

test('32-bit checks refuse fractions and out-of-range values', () => {
  assert.equal(checkInt32(-(2 ** 31), 'f'), -(2 ** 31));
  assert.equal(checkUint32(2 ** 32 - 1, 'f'), 2 ** 32 - 1);
  for (const bad of [2 ** 31, -(2 ** 31) - 1, 0.5, Number.NaN]) throwsCode(() => checkInt32(bad, 'f'), 'PROTO_OUT_OF_RANGE');
  for (const bad of [2 ** 32, -1, 0.5, Number.NaN]) throwsCode(() => checkUint32(bad, 'f'), 'PROTO_OUT_OF_RANGE');
});

test('a varint that is truncated or longer than 10 bytes is refused', () => {
  throwsCode(() => readUint64(Reader.create(new Uint8Array([0x80, 0x80])), 'f'), 'PROTO_MALFORMED');
  throwsCode(() => readUint64(Reader.create(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x80])), 'f'), 'PROTO_MALFORMED');
  throwsCode(() => readSint64(Reader.create(new Uint8Array(11).fill(0xff))), 'PROTO_MALFORMED');
});
