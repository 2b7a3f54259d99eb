/**
 * Tagged results for hot paths (STYLE.md rule 5): a failure the caller is expected to
 * handle is returned, not thrown. One interface per variant, so after checking `ok` the
 * compiler knows which field exists.
 */
import type { KvError } from './errors.js';

export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}

export interface Err<E = KvError> {
  readonly ok: false;
  readonly error: E;
}

export type Result<T, E = KvError> = Ok<T> | Err<E>;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err<E = KvError>(error: E): Err<E> {
  return { ok: false, error };
}

/** The value of a successful result; throws the error of a failed one. For cold paths. */
export function unwrap<T, E>(result: Result<T, E>): T {
  if (result.ok) return result.value;
  throw result.error;
}
