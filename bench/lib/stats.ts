/** Statistics for repeated measurements: median and spread, percentiles, ratios. */

/** The median of repeated runs and their range. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every run's value, in run order. */
  runs: number[];
}

/** Median, min and max of `values` (NaN for an empty list). */
export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length === 0
    ? NaN
    : sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN, runs: values };
}

/** Spread of `key` over runs (each run a record of metrics). */
export function spreadOf(runs: Record<string, number>[], key: string): Spread {
  return spread(runs.map((run) => run[key]));
}

/**
 * Spread of run-by-run ratios `a[i][key] / b[i][key]`: run i of both was measured in the same
 * repetition, so machine noise that hits both cancels out.
 */
export function ratioSpread(a: Record<string, number>[], b: Record<string, number>[], key: string): Spread {
  return spread(a.slice(0, b.length).map((run, i) => run[key] / b[i][key]));
}

/** Nearest-rank percentile (`q` in 0–1) of ascending `sorted` values; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}
