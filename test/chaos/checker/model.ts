/**
 * The sequential specification the checker holds a history to: one key of a Redis-like
 * store, a single string register that may be absent. Each operation is a pure step from
 * one register state to the next, or ILLEGAL when the operation — with the result the
 * client saw — cannot have happened in that state.
 *
 * An observation left `undefined` (a timed-out write, an APPEND whose reply carried no
 * length) constrains nothing: the step then accepts every state and computes the effect
 * the operation would have had there.
 */
import { Buffer } from 'node:buffer';

/** The register: a string, or `undefined` when the key does not exist. */
export type RegisterState = string | undefined;

export const ILLEGAL: unique symbol = Symbol('illegal');
export type StepResult = RegisterState | typeof ILLEGAL;

/** Redis integers (INCR) are signed 64-bit; leaving the range is an error, not a wrap. */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** The canonical decimal form Redis accepts for INCR: no sign on zero, no leading zeros. */
const DECIMAL_RE = /^(0|-?[1-9][0-9]{0,18})$/;

/** One operation of the model, with what the client observed of its outcome. */
export type ModelOp =
  | { readonly kind: 'get'; readonly value: RegisterState }
  | { readonly kind: 'put'; readonly value: string }
  | { readonly kind: 'delete'; readonly existed: boolean | undefined }
  | {
      readonly kind: 'cas';
      readonly expected: RegisterState;
      readonly next: RegisterState;
      readonly swapped: boolean | undefined;
      /** On a mismatch, the value the server reported finding (when it reported one). */
      readonly current: { readonly value: RegisterState } | undefined;
    }
  | { readonly kind: 'put-if-absent'; readonly value: string; readonly stored: boolean | undefined }
  | { readonly kind: 'increment'; readonly delta: bigint; readonly result: bigint | undefined }
  | { readonly kind: 'append'; readonly suffix: string; readonly length: number | undefined };

/** Parses a register value as an INCR operand; undefined when Redis would refuse it. */
export function parseInt64(value: RegisterState): bigint | undefined {
  if (value === undefined) return 0n;
  if (!DECIMAL_RE.test(value)) return undefined;
  const n = BigInt(value);
  return n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
}

/** Length as APPEND reports it: bytes of the UTF-8 encoding, not UTF-16 code units. */
export function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** The state after `op` runs in `state`, or ILLEGAL if its observed outcome rules that out. */
export function step(state: RegisterState, op: ModelOp): StepResult {
  switch (op.kind) {
    case 'get':
      return state === op.value ? state : ILLEGAL;
    case 'put':
      return op.value;
    case 'delete':
      if (op.existed !== undefined && op.existed !== (state !== undefined)) return ILLEGAL;
      return undefined;
    case 'cas':
      return stepCas(state, op);
    case 'put-if-absent':
      if (op.stored === undefined) return state === undefined ? op.value : state;
      if (op.stored) return state === undefined ? op.value : ILLEGAL;
      return state === undefined ? ILLEGAL : state;
    case 'increment':
      return stepIncrement(state, op);
    case 'append': {
      const next = (state ?? '') + op.suffix;
      if (op.length !== undefined && op.length !== byteLength(next)) return ILLEGAL;
      return next;
    }
    default: {
      const never: never = op;
      throw new Error(`model: unknown op ${JSON.stringify(never)}`);
    }
  }
}

function stepCas(state: RegisterState, op: Extract<ModelOp, { kind: 'cas' }>): StepResult {
  const matches = state === op.expected;
  if (op.swapped === undefined) return matches ? op.next : state;
  if (op.swapped) return matches ? op.next : ILLEGAL;
  if (matches) return ILLEGAL;
  if (op.current !== undefined && op.current.value !== state) return ILLEGAL;
  return state;
}

function stepIncrement(state: RegisterState, op: Extract<ModelOp, { kind: 'increment' }>): StepResult {
  const current = parseInt64(state);
  const next = current === undefined ? undefined : current + op.delta;
  if (next === undefined || next < INT64_MIN || next > INT64_MAX) {
    // Redis refuses the command and the key is unchanged. A client that saw a number
    // cannot have run it here; one that saw nothing (unknown outcome) may have.
    return op.result === undefined ? state : ILLEGAL;
  }
  if (op.result !== undefined && op.result !== next) return ILLEGAL;
  return next.toString();
}

/** A short quoted form of a register value for messages: "abc", or absent. */
export function showValue(value: RegisterState, maxChars = 40): string {
  if (value === undefined) return 'absent';
  const quoted = JSON.stringify(value);
  return quoted.length <= maxChars ? quoted : `${quoted.slice(0, maxChars - 4)}…" (${value.length} chars)`;
}

/** True when `op`, having taken effect, leaves the register holding exactly `value`. */
export function canProduce(op: ModelOp, value: RegisterState): boolean {
  switch (op.kind) {
    case 'get':
      return false;
    case 'put':
      return op.value === value;
    case 'delete':
      return value === undefined;
    case 'cas':
      return op.swapped !== false && op.next === value;
    case 'put-if-absent':
      return op.stored !== false && op.value === value;
    case 'increment':
      return value !== undefined && parseInt64(value) !== undefined && (op.result === undefined || op.result.toString() === value);
    case 'append':
      return value !== undefined && value.endsWith(op.suffix);
    default: {
      const never: never = op;
      throw new Error(`model: unknown op ${JSON.stringify(never)}`);
    }
  }
}

/** True for operations that never shrink or replace the value: a key with only these only grows. */
export function isGrowOnly(op: ModelOp): boolean {
  return op.kind === 'get' || op.kind === 'append';
}

/**
 * In a key that only grows, whether `op` (not yet placed) can still succeed once the
 * value is `state` or an extension of it. `stateBytes` is byteLength(state), passed in
 * because callers ask about many ops for one state.
 */
export function reachableByGrowth(state: RegisterState, stateBytes: number, op: ModelOp): boolean {
  if (state === undefined) return true;
  switch (op.kind) {
    case 'get':
      return op.value !== undefined && op.value.startsWith(state);
    case 'append':
      return op.length === undefined || stateBytes + byteLength(op.suffix) <= op.length;
    default:
      return true;
  }
}
