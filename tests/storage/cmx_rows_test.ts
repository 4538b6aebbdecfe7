import assert from "node:assert/strict";
import { cachedFor, placeIn } from "../../storage/cmx_rows.ts";

Deno.test("cachedFor loads once per period, and again after a failure", async () => {
  let clock = 0;
  let loads = 0;
  let fail = false;
  const total = cachedFor(1000, () => {
    loads++;
    return fail ? Promise.reject(new Error("db down")) : Promise.resolve(loads);
  }, () => clock);
  assert.equal(await total(), 1);
  clock = 999;
  assert.equal(await total(), 1, "fresh enough: no second load");
  clock = 1000;
  assert.equal(await total(), 2);
  fail = true;
  clock = 2000;
  await assert.rejects(total(), /db down/);
  fail = false;
  assert.equal(await total(), 4, "a failed load is not kept");
});

Deno.test("placeIn: 1 + how many walked farther, ties share a place", () => {
  const ranking = Float64Array.from([900, 500, 500, 100, 0]);
  const cases: [number, number][] = [[1000, 1], [900, 1], [700, 2], [500, 2], [400, 4], [100, 4], [50, 5], [0, 5]];
  for (const [metres, place] of cases) assert.equal(placeIn(ranking, metres), place, String(metres));
  assert.equal(placeIn(new Float64Array(), 10), 1);
});
