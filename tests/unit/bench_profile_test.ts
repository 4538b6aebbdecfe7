/**
 * The benchmark's `--profile` machinery (bench/lib/profile.ts) against a real
 * Deno process under the V8 inspector: the profile is written and its summary
 * names the function that burned the CPU.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { attachProfiler, INSPECT_FLAG, startProfiling, stopProfiling } from "../../bench/lib/profile.ts";
import { delay, spawnChild } from "../../bench/lib/process.ts";

// Busy 40 ms of every 50: the profile must put this function far above everything else.
const BUSY_SCRIPT = `
function spinForTheProfile(until) {
  let x = 0;
  do {
    for (let i = 0; i < 200000; i++) x = (x * 31 + i) % 1000003;
  } while (Date.now() < until);
  return x;
}
console.log("ready");
setInterval(() => spinForTheProfile(Date.now() + 40), 50);
`;

Deno.test("--profile: a child's CPU profile is written and its summary names the busiest function", async () => {
  const directory = await Deno.makeTempDir({ prefix: "bench-profile-test-" });
  const script = join(directory, "busy.js");
  await Deno.writeTextFile(script, BUSY_SCRIPT);
  const child = spawnChild({
    command: Deno.execPath(),
    args: ["run", INSPECT_FLAG, script],
    logFile: join(directory, "child.log"),
  });
  try {
    await child.waitFor((line) => line === "ready" || undefined, 30_000);
    const request = { directory: join(directory, "profiles"), name: "busy" };
    startProfiling(request);
    const profiler = await attachProfiler(child, request);
    await delay(1_500);
    await profiler.finish();
    const [summary, ...others] = stopProfiling();
    assert.equal(others.length, 0);

    const [heading, ...top] = summary.split("\n");
    assert.match(heading, /busy-1\.cpuprofile, top 15 functions by self time:$/);
    const busiest = top.find((line) => line.includes("spinForTheProfile"));
    assert.ok(busiest, `spinForTheProfile missing from:\n${summary}`);
    const share = Number(/ms\s+([\d.]+) %/.exec(busiest)?.[1]);
    assert.ok(share > 40, `spinForTheProfile had only ${share} % of the samples:\n${summary}`);

    const profile = JSON.parse(await Deno.readTextFile(join(request.directory, "busy-1.cpuprofile")));
    assert.ok(profile.samples.length > 100, `only ${profile.samples.length} samples`);
    assert.equal(await Deno.readTextFile(join(request.directory, "busy-1.txt")), summary + "\n");
  } finally {
    await child.stop(5_000);
    await Deno.remove(directory, { recursive: true });
  }
});
