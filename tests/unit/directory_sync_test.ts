import assert from "node:assert/strict";
import { join } from "node:path";
import { DirectorySyncer, syncDir } from "../../storage/directory_sync.ts";
import { FileBlobStore } from "../../storage/blob_fs.ts";

/** A directory fsync that waits until the test releases it, counting calls, then runs the real one or fails. */
function gatedSync() {
  const calls: string[] = [];
  let release = Promise.withResolvers<Error | null>();
  return {
    calls,
    sync: async (directory: string) => {
      calls.push(directory);
      const failure = await release.promise;
      if (failure) throw failure;
      await syncDir(directory);
    },
    /** Lets the fsync in flight finish (or fail with `failure`); the next one waits again. */
    finish(failure: Error | null = null) {
      const current = release;
      release = Promise.withResolvers<Error | null>();
      current.resolve(failure);
    },
  };
}

/** Settles after pending promise reactions have run, so "not settled yet" can be asserted. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

function track(promise: Promise<unknown>) {
  const state = { settled: false, error: undefined as unknown };
  promise.then(() => state.settled = true, (error) => Object.assign(state, { settled: true, error }));
  return state;
}

async function withDir(test: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-dirsync-" });
  try {
    await test(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writers who ask during an fsync share the next one, which starts only after they asked", async () => {
  await withDir(async (dir) => {
    const gate = gatedSync();
    const syncer = new DirectorySyncer(gate.sync);
    const first = track(syncer.sync(dir));
    const later = Array.from({ length: 5 }, () => track(syncer.sync(dir)));
    await settle();
    assert.equal(gate.calls.length, 1, "one fsync in flight per directory");
    gate.finish();
    await settle();
    assert.ok(first.settled && first.error === undefined, "the first writer is covered by the first fsync");
    assert.ok(
      later.every((state) => !state.settled),
      "later writers are not covered by an fsync that began before them",
    );
    assert.equal(gate.calls.length, 2, "one more fsync covers all five");
    gate.finish();
    await settle();
    assert.ok(later.every((state) => state.settled && state.error === undefined));
    assert.equal(gate.calls.length, 2);
  });
});

Deno.test("a failed directory fsync rejects every writer it covered and none of the next", async () => {
  await withDir(async (dir) => {
    const gate = gatedSync();
    const syncer = new DirectorySyncer(gate.sync);
    const first = track(syncer.sync(dir));
    await settle();
    const covered = Array.from({ length: 4 }, () => track(syncer.sync(dir)));
    gate.finish();
    await settle();
    const failure = new Error("EIO on directory fsync");
    gate.finish(failure);
    await settle();
    assert.ok(first.settled && first.error === undefined);
    for (const state of covered) assert.equal(state.error, failure, "each covered writer sees the fsync's error");
    const after = track(syncer.sync(dir));
    await settle();
    gate.finish();
    await settle();
    assert.ok(after.settled && after.error === undefined, "a writer after the failure gets a fresh fsync");
  });
});

Deno.test("separate directories are synced independently", async () => {
  await withDir(async (dir) => {
    const [a, b] = [join(dir, "a"), join(dir, "b")];
    await Promise.all([Deno.mkdir(a), Deno.mkdir(b)]);
    const gate = gatedSync();
    const syncer = new DirectorySyncer(gate.sync);
    const waits = [syncer.sync(a), syncer.sync(b)];
    await settle();
    assert.deepEqual(gate.calls.sort(), [a, b]);
    gate.finish();
    await Promise.all(waits);
  });
});

Deno.test("a missing directory rejects with NotFound from the real fsync", async () => {
  await withDir(async (dir) => {
    await assert.rejects(new DirectorySyncer().sync(join(dir, "gone")), Deno.errors.NotFound);
  });
});

Deno.test("when the directory fsync fails, no concurrent writeNew is acknowledged", async () => {
  await withDir(async (root) => {
    const failure = new Error("EIO on directory fsync");
    const failing = new DirectorySyncer(async (directory) => {
      await syncDir(directory);
      throw failure;
    });
    const store = new FileBlobStore(root, ".tmp", failing);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.writeNew((attempt) => `d/f${i}_${attempt}`, new Uint8Array([i]))),
    );
    store.close();
    for (const result of results) {
      assert.equal(result.status, "rejected");
      assert.equal(result.reason, failure);
    }
    const names = (await Array.fromAsync(Deno.readDir(join(root, "d")))).map((entry) => entry.name);
    assert.ok(names.every((name) => !name.endsWith(".tmp")), "temp names are gone even when the fsync fails");
  });
});
