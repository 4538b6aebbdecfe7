import assert from "node:assert/strict";
import { KeyedQueue } from "../../routes/keyed_queue.ts";

Deno.test("KeyedQueue runs work of one key in order, other keys alongside, and survives a throw", async () => {
  const queue = new KeyedQueue();
  const events: string[] = [];
  const step = (name: string, ms: number, fail = false) => async () => {
    events.push(`${name} start`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    events.push(`${name} end`);
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([
    queue.oneAtATime("p", step("a1", 30, true)),
    queue.oneAtATime("p", step("a2", 5)),
    queue.oneAtATime("q", step("b1", 10)),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "fulfilled", "fulfilled"]);
  assert.ok(events.indexOf("a1 end") < events.indexOf("a2 start"), "same key: strictly one after another");
  assert.ok(events.indexOf("b1 start") < events.indexOf("a1 end"), "other key: alongside");
});
