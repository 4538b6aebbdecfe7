/** The per-minute ring: counts land in their minute, old minutes fall out, totals stay. */
import assert from "node:assert/strict";
import { MinuteCounters, WINDOW_MINUTES } from "../../metrics/minute_counters.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

Deno.test("counts land in their minute and the window ends with the current one", () => {
  const counters = new MinuteCounters();
  counters.add("ott", 1, T0);
  counters.add("ott", 2, T0 + 59_999);
  counters.add("ott", 5, T0 + 10 * MINUTE);
  const series = counters.series(["meter"], T0 + 10 * MINUTE + 30_000);
  assert.equal(series.startSeconds, (T0 + 10 * MINUTE) / 1000 - (WINDOW_MINUTES - 1) * 60);
  const ott = series.counters.ott.perMinute;
  assert.equal(ott.length, WINDOW_MINUTES);
  assert.equal(ott.at(-1), 5);
  assert.equal(ott.at(-11), 3);
  assert.equal(series.counters.ott.lastHour, 8);
  assert.deepEqual(series.counters.meter, { perMinute: new Array(WINDOW_MINUTES).fill(0), lastHour: 0, total: 0 });
});

Deno.test("minutes older than the window are forgotten, the total is not", () => {
  const counters = new MinuteCounters();
  counters.add("meter", 4, T0);
  // The same slot one hour later: the old count must not leak into the new minute.
  counters.add("meter", 1, T0 + WINDOW_MINUTES * MINUTE);
  const series = counters.series([], T0 + WINDOW_MINUTES * MINUTE);
  assert.equal(series.counters.meter.lastHour, 1);
  assert.equal(series.counters.meter.total, 5);
  // Read two hours later without new counts: nothing in the window.
  assert.equal(counters.series([], T0 + 2 * WINDOW_MINUTES * MINUTE).counters.meter.lastHour, 0);
  assert.equal(counters.total("meter"), 5);
});
