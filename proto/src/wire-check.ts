/**
 * Test support: random messages for any protobufjs reflection type, in the generated
 * code's shape, and a two-way wire-compatibility check against protobufjs. Used by
 * wire-compat.test.ts (Shoal's .proto files) and generator.test.ts (the fixture).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import type { MessageCodec } from './runtime.js';

type Obj = Record<string, unknown>;

export const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: Array, defaults: true, arrays: true, objects: true };

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function isProto3Optional(field: protobuf.Field): boolean {
  return field.options?.['proto3_optional'] === true;
}

function asObj(value: unknown): Obj {
  assert.ok(typeof value === 'object' && value !== null);
  return value as Obj;
}

// ------------------------------------------------------------------------------ normalizing

/** One value of a field, in the shape protobufjs's toObject(TO_OBJECT) produces. */
function normalizeValue(field: protobuf.Field, value: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Type) {
    return value === undefined ? null : normalize(field.resolvedType, asObj(value));
  }
  if (LONG_TYPES.has(field.type)) return String(value);
  if (field.type === 'bytes') return Array.from(value as Uint8Array);
  return value;
}

/** A generated-code message, in the shape protobufjs's toObject(TO_OBJECT) produces. */
export function normalize(type: protobuf.Type, message: Obj): Obj {
  const out: Obj = {};
  for (const field of type.fieldsArray) {
    const oneof = field.partOf;
    let value: unknown;
    if (oneof && !isProto3Optional(field)) {
      const chosen = message[oneof.name] as Obj | undefined;
      if (chosen?.['$case'] !== field.name) continue;
      value = chosen[field.name];
    } else {
      value = message[field.name];
      if (isProto3Optional(field) && value === undefined) continue;
    }
    if (field instanceof protobuf.MapField) {
      const entries = [...(value as Map<unknown, unknown>)];
      out[field.name] = Object.fromEntries(entries.map(([k, v]) => [String(k), normalizeValue(field, v)]));
    } else if (field.repeated) {
      out[field.name] = (value as unknown[]).map((v) => normalizeValue(field, v));
    } else {
      out[field.name] = normalizeValue(field, value);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------ random values

const scalarArbs: Record<string, fc.Arbitrary<unknown>> = {
  double: fc.double(),
  float: fc.float(),
  int32: fc.integer(),
  sint32: fc.integer(),
  sfixed32: fc.integer(),
  uint32: fc.integer({ min: 0, max: 0xffffffff }),
  fixed32: fc.integer({ min: 0, max: 0xffffffff }),
  int64: fc.maxSafeInteger(),
  uint64: fc.maxSafeNat(),
  fixed64: fc.maxSafeNat(),
  sint64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  sfixed64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  bool: fc.boolean(),
  string: fc.string({ unit: 'binary', maxLength: 8 }),
  bytes: fc.uint8Array({ maxLength: 8 }),
};

const DEPTH_MAX = 2;

/** A single (non-repeated) value of the field's element type; messages are always present. */
function elementArb(field: protobuf.Field, depth: number): fc.Arbitrary<unknown> {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageArb(resolved, depth + 1);
  if (resolved instanceof protobuf.Enum) return fc.constantFrom(...Object.values(resolved.values));
  const arb = scalarArbs[field.type];
  assert.ok(arb, `no arbitrary for ${field.type}`);
  return arb;
}

/** Random values of one field; below DEPTH_MAX, message-typed parts are empty or absent. */
function fieldArb(field: protobuf.Field, depth: number): fc.Arbitrary<unknown> {
  const isMessage = field.resolvedType instanceof protobuf.Type;
  const deep = depth >= DEPTH_MAX;
  if (field instanceof protobuf.MapField) {
    const key = scalarArbs[field.keyType];
    assert.ok(key);
    if (deep) return fc.constant(new Map());
    return fc.array(fc.tuple(key, elementArb(field, depth)), { maxLength: 3 }).map((e) => new Map(e));
  }
  if (field.repeated) return deep && isMessage ? fc.constant([]) : fc.array(elementArb(field, depth), { maxLength: 3 });
  if (isMessage || isProto3Optional(field)) {
    return deep && isMessage ? fc.constant(undefined) : fc.option(elementArb(field, depth), { nil: undefined });
  }
  return elementArb(field, depth);
}

const messageArbs = new Map<string, fc.Arbitrary<Obj>>();

/** Random messages in the generated code's shape (oneofs as { $case, [case]: value }). */
export function messageArb(type: protobuf.Type, depth = 0): fc.Arbitrary<Obj> {
  const key = `${type.fullName}@${depth}`;
  const cached = messageArbs.get(key);
  if (cached) return cached;
  const members: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    const oneof = field.partOf;
    if (oneof && !isProto3Optional(field)) {
      if (members[oneof.name]) continue;
      if (depth >= DEPTH_MAX) {
        members[oneof.name] = fc.constant(undefined);
        continue;
      }
      const cases = oneof.fieldsArray.map((f) => elementArb(f, depth).map((v) => ({ $case: f.name, [f.name]: v })));
      members[oneof.name] = fc.oneof(fc.constant(undefined), ...cases);
    } else {
      members[field.name] = fieldArb(field, depth);
    }
  }
  const arb = fc.record(members, { noNullPrototype: true }) as fc.Arbitrary<Obj>;
  messageArbs.set(key, arb);
  return arb;
}

/**
 * For random values of one message: what `codec` encodes protobufjs decodes to the same
 * content, and what protobufjs encodes `codec` decodes to the same value.
 */
export function assertWireCompatible(codec: MessageCodec<unknown>, type: protobuf.Type, numRuns: number): void {
  fc.assert(fc.property(messageArb(type), (message) => {
    const ours = codec.encode(message).finish();
    assert.deepEqual(type.toObject(type.decode(ours), TO_OBJECT), normalize(type, message), `${codec.typeName}: ours -> protobufjs`);
    const theirs = type.encode(type.fromObject(normalize(type, message))).finish();
    assert.deepEqual(codec.decode(theirs), message, `${codec.typeName}: protobufjs -> ours`);
  }), { numRuns });
}
