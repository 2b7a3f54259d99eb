/**
 * Always-on assertions for programmer errors. A failed assertion means the library or
 * its caller broke an invariant; continuing would risk safety, so it throws loudly.
 * Operating failures (dropped proposals, unknown peers) are values, never assertions.
 */

/** Thrown when an invariant is broken; never caught inside raft-ts. */
export class RaftAssertionError extends Error {
  override readonly name = 'RaftAssertionError';
}

/** Throws `RaftAssertionError` unless `cond` holds. `msg` should state the invariant. */
export function assert(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new RaftAssertionError(`raft-ts invariant violated: ${msg}`);
}

/** For the `default` arm of an exhaustive switch. */
export function assertNever(x: never, what: string): never {
  throw new RaftAssertionError(`raft-ts: unexpected ${what}: ${String(x)}`);
}
