/** The outcome of a pure domain decision: a value, or an error phrased for the sender. */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

/** A successful {@link Result}. */
export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value };
}

/** A failed {@link Result}. */
export function err<E = string>(error: E): Result<never, E> {
  return { ok: false, error };
}
