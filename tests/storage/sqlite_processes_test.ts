/**
 * SQLite across real processes: durability under kill -9, and several
 * processes opening (and migrating) one new database at the same time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSqliteStore } from "../../storage/sqlite/store.ts";

const WRITER = fileURLToPath(new URL("./sqlite_writer.ts", import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const COMMIT = { maxDelayMs: 2, maxBatch: 500 };

function spawnWriter(kind: "ott" | "meters", path: string, prefix: string, count?: number): Deno.ChildProcess {
  const args = ["run", "-A", WRITER, kind, path, prefix, ...(count === undefined ? [] : [String(count)])];
  return new Deno.Command(Deno.execPath(), { args, cwd: PROJECT_ROOT, stdout: "piped", stderr: "piped" }).spawn();
}

/** Every `ack <key>` line the writer printed, read until `enough` returns true or the stream ends. */
async function readAcks(
  lines: ReadableStreamDefaultReader<string>,
  acked: Set<string>,
  enough = () => false,
): Promise<void> {
  let partial = "";
  while (!enough()) {
    const { value, done } = await lines.read();
    if (done) return;
    const parts = (partial + value).split("\n");
    partial = parts.pop()!; // a line cut off by the kill was never fully acknowledged
    for (const line of parts) if (line.startsWith("ack ")) acked.add(line.slice(4));
  }
}

async function storedFiles(path: string): Promise<Set<string>> {
  const store = await openSqliteStore(path, COMMIT);
  try {
    return new Set(await Array.fromAsync(store.ott.values({ stationId: "W" }), (value) => value.file));
  } finally {
    await store.close();
  }
}

/** `<id>:<voltage>` of every reading of pub 1, the keys the meters writer acknowledges. */
async function storedReadings(path: string): Promise<Set<string>> {
  const store = await openSqliteStore(path, COMMIT);
  try {
    return new Set(await Array.fromAsync(store.meters.readings(1, {}), (r) => `${r.id}:${r.voltage}`));
  } finally {
    await store.close();
  }
}

/** Runs a writer of `kind`, kills it with SIGKILL after 2,000 acks, and returns what it acknowledged. */
async function ackedBeforeKill(kind: "ott" | "meters", path: string): Promise<Set<string>> {
  const child = spawnWriter(kind, path, "crash");
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const acked = new Set<string>();
  await readAcks(lines, acked, () => acked.size >= 2_000);
  // Killed while its 16 writers are mid-stream (or already dead, which the next assertion reports).
  child.kill("SIGKILL");
  await readAcks(lines, acked); // acknowledgements already in the pipe count too
  const status = await child.status;
  const errors = await stderr;
  assert.equal(
    status.signal,
    "SIGKILL",
    `writer exited by itself (code ${status.code}) after ${acked.size} acks: ${errors}`,
  );
  return acked;
}

Deno.test("sqlite: every acknowledged record survives kill -9 of the writing process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-crash-" });
  try {
    const path = join(dir, "fieldgate.sqlite");
    const acked = await ackedBeforeKill("ott", path);
    const stored = await storedFiles(path);
    const lost = [...acked].filter((file) => !stored.has(file));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged records lost`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: every acknowledged meter reading survives kill -9 of the writing process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-crash-" });
  try {
    const path = join(dir, "fieldgate.sqlite");
    const acked = await ackedBeforeKill("meters", path);
    const stored = await storedReadings(path);
    const lost = [...acked].filter((key) => !stored.has(key));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged readings lost or stored under another id`);
    const store = await openSqliteStore(path, COMMIT);
    try {
      assert.deepEqual((await store.meters.meters()).map((m) => m.readings), [stored.size], "counter matches the rows");
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: processes opening one new database at once all migrate and write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-procs-" });
  try {
    const path = join(dir, "fieldgate.sqlite");
    const children = ["p0", "p1", "p2", "p3"].map((prefix) => spawnWriter("ott", path, prefix, 100));
    const outputs = await Promise.all(children.map((child) => child.output()));
    for (const output of outputs) {
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    }
    assert.equal((await storedFiles(path)).size, 400);
    const store = await openSqliteStore(path, COMMIT);
    try {
      assert.deepEqual((await store.ott.stations()).map((s) => s.transmissions), [400]);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
