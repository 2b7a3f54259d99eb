/**
 * Runtime support for the code that proto/scripts/gen.mjs generates under src/gen/.
 *
 * The generated codecs call protobufjs's minimal Reader/Writer for the wire format and
 * these helpers for everything protobufjs does not do the way Shoal needs:
 * - 64-bit integers: `int64`/`uint64`/`fixed64` are JavaScript numbers that must be safe
 *   integers (checked on encode AND on decode), `sint64`/`sfixed64` are bigints over the
 *   full int64 range. protobufjs would hand out `Long` objects or lossy numbers.
 * - range checks on 32-bit integers (a fraction would otherwise be truncated silently);
 * - wire-type and length checks, and a nesting limit on decode;
 * - gRPC method definitions built from a codec.
 *
 * Every failure is a `ProtoError` with a stable `code`; tests assert the code.
 */
import protobuf from 'protobufjs/minimal.js';
import type { MethodDefinition } from '@grpc/grpc-js';

export const Reader = protobuf.Reader;
export type Reader = protobuf.Reader;
export const Writer = protobuf.Writer;
export type Writer = protobuf.Writer;

/**
 * The default of every `bytes` field: one shared, frozen, empty array. Allocating a typed
 * array per absent field would double the decode time of Raft batches.
 */
export const EMPTY_BYTES: Uint8Array = Object.freeze(new Uint8Array(0));

/** Messages nested deeper than this are refused on decode (a bound on recursion). */
export const DECODE_DEPTH_MAX = 64;

export type ProtoErrorCode =
  /** An int64/uint64/fixed64 number outside ±(2^53 - 1), on encode or decode. */
  | 'PROTO_UNSAFE_INTEGER'
  /** A value outside its field's range (int32, uint32, negative unsigned, bigint past int64). */
  | 'PROTO_OUT_OF_RANGE'
  /** A known field arrived with a wire type its declared type cannot have. */
  | 'PROTO_WIRE_TYPE'
  /** A length-delimited field or message does not end where its length says. */
  | 'PROTO_MALFORMED'
  /** Messages nested deeper than DECODE_DEPTH_MAX. */
  | 'PROTO_TOO_DEEP';

export class ProtoError extends Error {
  override readonly name = 'ProtoError';
  readonly code: ProtoErrorCode;

  constructor(code: ProtoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * What every generated message constant (`kv.GetRequest`, `raft.Message`, …) provides.
 * `T` is the message interface of the same name.
 */
export interface MessageCodec<T> {
  /** Fully qualified protobuf name, without the leading dot: `shoal.kv.GetRequest`. */
  readonly typeName: string;
  /**
   * Appends `message` to `writer` (a new one if omitted) and returns the writer; call
   * `.finish()` for the bytes. Fields equal to their proto3 default are not written.
   */
  encode(message: T, writer?: Writer): Writer;
  /**
   * Decodes a message. Absent fields get their proto3 defaults, unknown fields are
   * skipped. Decoded `bytes` fields are views into `input`: do not reuse `input`'s memory
   * while the message is alive. `length` and `depth` are for nested messages.
   */
  decode(input: Reader | Uint8Array, length?: number, depth?: number): T;
  /** A message with every field not in `partial` set to its default. */
  create(partial?: Partial<T>): T;
}

/** Encodes a message into a fresh byte array. */
export function encodeMessage<T>(codec: MessageCodec<T>, message: T): Uint8Array {
  return codec.encode(message).finish();
}

// ---------------------------------------------------------------------------------------
// Decoding frame checks.

/** The reader for `input`, after checking the nesting depth and that `length` fits. */
export function beginDecode(input: Reader | Uint8Array, length: number | undefined, depth: number,
  typeName: string): Reader {
  if (depth > DECODE_DEPTH_MAX) {
    throw new ProtoError('PROTO_TOO_DEEP', `${typeName}: nested deeper than ${DECODE_DEPTH_MAX}`);
  }
  const reader = input instanceof Reader ? input : Reader.create(input);
  if (length !== undefined && reader.pos + length > reader.len) {
    throw new ProtoError('PROTO_MALFORMED',
      `${typeName}: length ${length} at offset ${reader.pos} exceeds buffer of ${reader.len} bytes`);
  }
  return reader;
}

/** Asserts that the fields of a message consumed exactly its declared length. */
export function endDecode(reader: Reader, end: number, typeName: string): void {
  if (reader.pos !== end) {
    throw new ProtoError('PROTO_MALFORMED',
      `${typeName}: last field ends at offset ${reader.pos}, message at ${end}`);
  }
}

/** Asserts that a known field arrived with the wire type its declared type implies. */
export function expectWireType(tag: number, wireType: number, field: string): void {
  if ((tag & 7) !== wireType) {
    throw new ProtoError('PROTO_WIRE_TYPE',
      `${field}: wire type ${tag & 7}, expected ${wireType}`);
  }
}

/** Skips a field the schema does not know (forward compatibility). */
export function skipField(reader: Reader, tag: number): void {
  reader.skipType(tag & 7, 0, tag >>> 3);
}

/**
 * Reads a `bytes` field as a plain Uint8Array view into the input (protobufjs's
 * BufferReader would return a Buffer, so results would differ by input type).
 */
export function readBytes(reader: Reader): Uint8Array {
  const length = reader.uint32();
  const start = reader.pos;
  if (start + length > reader.len) {
    throw new ProtoError('PROTO_MALFORMED', `${length} bytes at offset ${start} run past the end (${reader.len})`);
  }
  reader.pos = start + length;
  const buf = reader.buf;
  return new Uint8Array(buf.buffer, buf.byteOffset + start, length);
}

// ---------------------------------------------------------------------------------------
// 32-bit integers.

export function checkInt32(value: number, field: string): number {
  if ((value | 0) !== value) throw outOfRange(field, value, 'int32');
  return value;
}

export function checkUint32(value: number, field: string): number {
  if (value >>> 0 !== value) throw outOfRange(field, value, 'uint32');
  return value;
}

function outOfRange(field: string, value: number | bigint, type: string): ProtoError {
  return new ProtoError('PROTO_OUT_OF_RANGE', `${field}: ${String(value)} is not a valid ${type}`);
}

// ---------------------------------------------------------------------------------------
// 64-bit integers as numbers: safe integers only, checked both ways.

const TWO_POW_32 = 4294967296;

function unsafe(field: string, value: number | bigint, direction: 'encode' | 'decode'): ProtoError {
  return new ProtoError('PROTO_UNSAFE_INTEGER',
    `${field}: ${String(value)} is not a safe integer (|v| < 2^53) on ${direction}; ` +
    'declare the field sint64/sfixed64 to carry full 64-bit values as bigint');
}

export function writeInt64(writer: Writer, value: number, field: string): Writer {
  if (!Number.isSafeInteger(value)) throw unsafe(field, value, 'encode');
  return writer.int64(value);
}

export function writeUint64(writer: Writer, value: number, field: string): Writer {
  if (!Number.isSafeInteger(value)) throw unsafe(field, value, 'encode');
  if (value < 0) throw outOfRange(field, value, 'uint64');
  return writer.uint64(value);
}

export function writeFixed64(writer: Writer, value: number, field: string): Writer {
  if (!Number.isSafeInteger(value)) throw unsafe(field, value, 'encode');
  if (value < 0) throw outOfRange(field, value, 'fixed64');
  const lo = value >>> 0;
  return writer.fixed32(lo).fixed32((value - lo) / TWO_POW_32);
}

// Scratch output of readVarint64: the two unsigned 32-bit halves. Module state is safe
// because JavaScript runs one decode at a time and every caller reads them at once.
let varintLo = 0;
let varintHi = 0;

/** Reads a varint of up to 10 bytes into varintLo/varintHi (exact, unlike Long-less protobufjs). */
function readVarint64(reader: Reader): void {
  const buf = reader.buf;
  const len = reader.len;
  let pos = reader.pos;
  let lo = 0;
  let hi = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= len) throw truncated(reader);
    const b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) return finishVarint(reader, pos, lo, hi);
  }
  if (pos >= len) throw truncated(reader);
  const fifth = buf[pos++]!;
  lo |= (fifth & 0x7f) << 28;
  hi = (fifth & 0x7f) >> 4;
  if (fifth < 0x80) return finishVarint(reader, pos, lo, hi);
  for (let shift = 3; shift < 32; shift += 7) {
    if (pos >= len) throw truncated(reader);
    const b = buf[pos++]!;
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) return finishVarint(reader, pos, lo, hi);
  }
  throw new ProtoError('PROTO_MALFORMED', `varint longer than 10 bytes at offset ${reader.pos}`);
}

function finishVarint(reader: Reader, pos: number, lo: number, hi: number): void {
  reader.pos = pos;
  varintLo = lo >>> 0;
  varintHi = hi >>> 0;
}

function truncated(reader: Reader): ProtoError {
  return new ProtoError('PROTO_MALFORMED', `varint runs past the end of the buffer at offset ${reader.pos}`);
}

function bigFromHalves(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function readUint64(reader: Reader, field: string): number {
  readVarint64(reader);
  // value < 2^53 exactly when the high half is < 2^21.
  if (varintHi >= 0x200000) throw unsafe(field, bigFromHalves(varintLo, varintHi), 'decode');
  return varintHi * TWO_POW_32 + varintLo;
}

export function readInt64(reader: Reader, field: string): number {
  readVarint64(reader);
  // Exact whenever the result is a safe integer; any rounding lands outside the safe range.
  const value = (varintHi | 0) * TWO_POW_32 + varintLo;
  if (!Number.isSafeInteger(value)) {
    throw unsafe(field, BigInt.asIntN(64, bigFromHalves(varintLo, varintHi)), 'decode');
  }
  return value;
}

export function readFixed64(reader: Reader, field: string): number {
  const lo = reader.fixed32();
  const hi = reader.fixed32();
  if (hi >= 0x200000) throw unsafe(field, bigFromHalves(lo, hi), 'decode');
  return hi * TWO_POW_32 + lo;
}

// ---------------------------------------------------------------------------------------
// 64-bit integers as bigint: the full int64 range (signed counters such as INCR).

function checkBigInt64(value: bigint, field: string): void {
  if (BigInt.asIntN(64, value) !== value) throw outOfRange(field, value, 'int64');
}

export function writeSint64(writer: Writer, value: bigint, field: string): Writer {
  checkBigInt64(value, field);
  // protobufjs zigzag-encodes the two's-complement halves of a Long-shaped object.
  const low = Number(BigInt.asUintN(32, value)) | 0;
  const high = Number(BigInt.asIntN(32, value >> 32n));
  return writer.sint64({ low, high, unsigned: false });
}

export function readSint64(reader: Reader): bigint {
  readVarint64(reader);
  const zigzag = bigFromHalves(varintLo, varintHi);
  return (zigzag >> 1n) ^ -(zigzag & 1n);
}

export function writeSfixed64(writer: Writer, value: bigint, field: string): Writer {
  checkBigInt64(value, field);
  return writer.fixed32(Number(BigInt.asUintN(32, value))).fixed32(Number(BigInt.asUintN(32, value >> 32n)));
}

export function readSfixed64(reader: Reader): bigint {
  const lo = reader.fixed32();
  const hi = reader.fixed32();
  return BigInt.asIntN(64, bigFromHalves(lo, hi));
}

// ---------------------------------------------------------------------------------------
// gRPC.

/** A zero-copy Buffer over the encoded bytes (gRPC's serializers must return Buffers). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A grpc-js method definition whose (de)serializers are the generated static codecs. */
export function grpcMethod<Req, Res>(path: string, originalName: string, requestStream: boolean,
  responseStream: boolean, request: MessageCodec<Req>, response: MessageCodec<Res>): MethodDefinition<Req, Res> {
  return {
    path,
    originalName,
    requestStream,
    responseStream,
    requestSerialize: (value: Req): Buffer => toBuffer(request.encode(value).finish()),
    requestDeserialize: (bytes: Buffer): Req => request.decode(bytes),
    responseSerialize: (value: Res): Buffer => toBuffer(response.encode(value).finish()),
    responseDeserialize: (bytes: Buffer): Res => response.decode(bytes),
  };
}
