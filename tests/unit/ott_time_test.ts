import assert from "node:assert/strict";
import { localTimeToUtc } from "../../domain/ott_time.ts";

Deno.test("logger times computed by arithmetic equal Date.UTC on every day from 1900 to 2200", () => {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  for (let day = Date.UTC(1900, 0, 1); day < Date.UTC(2200, 0, 1); day += 86_400_000) {
    const date = new Date(day);
    const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    const hour = (d * 7) % 24;
    const minute = (m * 13 + d) % 60;
    const second = (y + d) % 60;
    const t = `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(hour)}:${pad(minute)}:${pad(second)}.${d * 20 + 100}`;
    for (const offset of [0, 60, -330, 840]) {
      const expected = Date.UTC(y, m - 1, d, hour, minute, second, d * 20 + 100) - offset * 60_000;
      assert.equal(localTimeToUtc(t, offset)?.getTime(), expected, `${t} at ${offset}`);
    }
  }
});
