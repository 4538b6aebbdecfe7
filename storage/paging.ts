/**
 * Keyset paging shared by every streamed query (OTT values, meter readings):
 * one short query per page, so no transaction or cursor stays open while the
 * consumer is slow, and memory stays bounded by one page.
 */

/** Rows per keyset page: small enough to bound memory, large enough to amortise a round trip. */
export const PAGE_SIZE = 1_000;

/**
 * Streams rows through `fetchPage`, which must return at most `limit` rows in
 * the query's order and, when `after` is given, strictly after that row's
 * key. Stops after `limit` rows in total when one is given.
 */
export async function* pagedRows<T>(
  limit: number | undefined,
  fetchPage: (after: T | undefined, limit: number) => Promise<T[]>,
): AsyncGenerator<T> {
  if (limit !== undefined) checkLimit(limit);
  let remaining = limit ?? Infinity;
  let after: T | undefined;
  while (remaining > 0) {
    const pageSize = Math.min(PAGE_SIZE, remaining);
    const page = await fetchPage(after, pageSize);
    yield* page;
    if (page.length < pageSize) return;
    remaining -= page.length;
    after = page[page.length - 1];
  }
}

/** Throws unless `limit` is a whole number ≥ 0 (SQLite would read a negative LIMIT as "no limit"). */
export function checkLimit(limit: number): void {
  if (!(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`limit must be a whole number of 0 or more, got ${limit}`);
  }
}
