import assert from "node:assert/strict";
import { daysLeft, MAX_WAIT_MS, renewalTime, retryDelayMs } from "../../certs/renewal_schedule.ts";

Deno.test("renewal is due at two thirds of the lifetime: day 60 of a 90-day certificate", () => {
  const notBefore = new Date("2026-01-01T00:00:00Z");
  const notAfter = new Date("2026-04-01T00:00:00Z");
  assert.equal(renewalTime(notBefore, notAfter).toISOString(), "2026-03-02T00:00:00.000Z");
});

Deno.test("failed renewals are retried after the first delay, doubling, capped at six hours", () => {
  const first = 300_000;
  assert.deepEqual([1, 2, 3, 4].map((failures) => retryDelayMs(failures, first)), [
    300_000,
    600_000,
    1_200_000,
    2_400_000,
  ]);
  assert.equal(retryDelayMs(30, first), MAX_WAIT_MS);
  assert.equal(MAX_WAIT_MS, 6 * 3_600_000);
});

Deno.test("days left count whole days and go negative once expired", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  assert.equal(daysLeft(new Date("2026-03-15T11:00:00Z"), now), 13);
  assert.equal(daysLeft(new Date("2026-03-01T11:00:00Z"), now), -1);
});
