/**
 * Per-minute counters over the last hour, in memory: each named counter keeps
 * a ring of 60 one-minute slots plus its total since start. Counting is a few
 * array writes, so it can sit on every ingestion path.
 */

/** Minutes a ring covers: the dashboard's "last hour". */
export const WINDOW_MINUTES = 60;

class MinuteRing {
  /** The minute (ms / 60 000) each slot currently counts; a stale slot reads as zero. */
  readonly minutes = new Float64Array(WINDOW_MINUTES).fill(-1);
  readonly counts = new Float64Array(WINDOW_MINUTES);
  total = 0;

  add(minute: number, amount: number): void {
    const slot = minute % WINDOW_MINUTES;
    if (this.minutes[slot] !== minute) {
      this.minutes[slot] = minute;
      this.counts[slot] = 0;
    }
    this.counts[slot] += amount;
    this.total += amount;
  }

  /** Counts of the minutes `first … first + WINDOW_MINUTES - 1`, oldest first. */
  window(first: number): number[] {
    return Array.from({ length: WINDOW_MINUTES }, (_, i) => {
      const minute = first + i;
      const slot = minute % WINDOW_MINUTES;
      return this.minutes[slot] === minute ? this.counts[slot] : 0;
    });
  }
}

/** The last hour of one set of counters, minute by minute. */
export interface MinuteSeries {
  /** Unix seconds of the first (oldest) minute; the last one is the current, unfinished minute. */
  startSeconds: number;
  /** Per counter: {@link WINDOW_MINUTES} per-minute counts, oldest first, and the total since start. */
  counters: Record<string, { perMinute: number[]; lastHour: number; total: number }>;
}

/** A set of named per-minute counters. */
export class MinuteCounters {
  readonly #rings = new Map<string, MinuteRing>();

  /** Adds `amount` to counter `name` in the minute of `now`. */
  add(name: string, amount = 1, now = Date.now()): void {
    let ring = this.#rings.get(name);
    if (!ring) this.#rings.set(name, ring = new MinuteRing());
    ring.add(Math.floor(now / 60_000), amount);
  }

  /** The total since start of `name` (0 if never counted). */
  total(name: string): number {
    return this.#rings.get(name)?.total ?? 0;
  }

  /** Every counter's last hour ending with the minute of `now`; `names` are listed even if never counted. */
  series(names: readonly string[] = [], now = Date.now()): MinuteSeries {
    const first = Math.floor(now / 60_000) - WINDOW_MINUTES + 1;
    const counters: MinuteSeries["counters"] = {};
    for (const name of new Set([...names, ...this.#rings.keys()])) {
      const ring = this.#rings.get(name);
      const perMinute = ring ? ring.window(first) : new Array(WINDOW_MINUTES).fill(0);
      counters[name] = { perMinute, lastHour: perMinute.reduce((a, b) => a + b, 0), total: ring?.total ?? 0 };
    }
    return { startSeconds: first * 60, counters };
  }
}
