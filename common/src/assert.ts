/**
 * Assertions for programmer errors (STYLE.md rules 4 and 5).
 *
 * A failed assertion means the code is wrong, not that the world misbehaved: it throws an
 * `AssertionError`, which is deliberately NOT a `KvError`, so no caller mistakes it for an
 * operating error it could handle or retry. Processes let it crash them. Assertions are
 * always on, including in production and in hot paths; keep their conditions cheap and
 * pass a function as the message when building the message would cost something.
 */

export class AssertionError extends Error {
  /** Same code as node:assert's AssertionError, so generic tooling recognises it. */
  readonly code = 'ERR_ASSERTION';

  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

/** Throws an `AssertionError` unless `condition` is truthy. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (condition) return;
  throw new AssertionError(typeof message === 'string' ? message : message());
}

/**
 * The last branch of an exhaustive `switch` over a union: the compiler proves it is never
 * reached, and if a value the types did not foresee arrives at run time (data from disk or
 * the wire cast without checking) it crashes loudly instead of falling through.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${safeDescribe(value)}`);
}

function safeDescribe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
