import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** What `deno task start` does not run: dependencies, tests, benchmarks (and hidden directories such as .git). */
const NOT_SOURCES = new Set(["node_modules", "tests", "bench"]);

/** Every `new URL("./…_worker.ts", import.meta.url)` in fieldgate's sources, relative to the repository. */
async function workerScripts(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) {
        if (!entry.name.startsWith(".") && !NOT_SOURCES.has(entry.name)) await walk(path);
      } else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(path);
        for (const match of text.matchAll(/new URL\("(\.\.?\/[^"]+_worker\.ts)", import\.meta\.url\)/g)) {
          found.push(relative(ROOT, join(dirname(path), match[1])));
        }
      }
    }
  };
  await walk(ROOT);
  return found.sort();
}

Deno.test("the compile task includes every worker script, so a compiled fieldgate can start its threads", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const included = [...String(config.tasks.compile).matchAll(/--include (\S+)/g)].map((match) => match[1]);
  const workers = await workerScripts();
  assert.ok(workers.length >= 3, `found the worker scripts (${workers.join(", ")})`);
  for (const worker of workers) {
    assert.ok(included.includes(worker), `deno.json's compile task lacks --include ${worker}`);
  }
});
