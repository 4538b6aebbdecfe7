import assert from "node:assert/strict";
import { join } from "node:path";
import { FileBlobStore, UnsafePathError } from "../../storage/blob_fs.ts";

async function withStore(test: (store: FileBlobStore, root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "fieldgate-blob-" });
  const store = new FileBlobStore(root, ".tmp");
  try {
    await test(store, root);
  } finally {
    store.close();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("writeNew stores the exact bytes under the requested name, creating directories", async () => {
  await withStore(async (store, root) => {
    const data = new Uint8Array([0, 1, 2, 0xff, 0xb0]);
    const name = await store.writeNew(() => "a/b/c/file", data);
    assert.equal(name, "a/b/c/file");
    assert.deepEqual(await Deno.readFile(join(root, "a/b/c/file")), data);
    assert.deepEqual(await store.read(name), data);
  });
});

Deno.test("an existing name is never overwritten: the next attempt's name is used", async () => {
  await withStore(async (store) => {
    const first = await store.writeNew((attempt) => `d/x${attempt}`, new Uint8Array([1]));
    const second = await store.writeNew((attempt) => `d/x${attempt}`, new Uint8Array([2]));
    assert.equal(first, "d/x0");
    assert.equal(second, "d/x1");
    assert.deepEqual(await store.read("d/x0"), new Uint8Array([1]));
  });
});

Deno.test("100 concurrent writes to one name all survive with distinct names and no temp files", async () => {
  await withStore(async (store, root) => {
    const names = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.writeNew((attempt) => `same/n${attempt}`, new Uint8Array([i]))),
    );
    assert.equal(new Set(names).size, 100);
    const entries = await Array.fromAsync(Deno.readDir(join(root, "same")));
    assert.equal(entries.length, 100);
    assert.ok(entries.every((entry) => !entry.name.endsWith(".tmp")));
    const bytes = await Promise.all(names.map((name) => store.read(name)));
    assert.deepEqual(bytes.map((b) => b[0]).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  });
});

Deno.test("paths that escape the root are refused before anything is written", async () => {
  await withStore(async (store, root) => {
    for (const bad of ["../evil", "/etc/passwd", "a/../../evil", "", "a\0b"]) {
      await assert.rejects(store.writeNew(() => bad, new Uint8Array([1])), UnsafePathError, bad);
    }
    assert.deepEqual(await Array.fromAsync(Deno.readDir(root)), []);
  });
});

Deno.test("sweepTempFiles removes crash leftovers and keeps finished files", async () => {
  await withStore(async (store, root) => {
    await store.writeNew(() => "x/kept", new Uint8Array([1]));
    await Deno.writeFile(join(root, "x", ".3f2a.tmp"), new Uint8Array([9]));
    await Deno.writeFile(join(root, "x", "visible.tmp"), new Uint8Array([9]));
    assert.deepEqual(await store.sweepTempFiles(), ["x/.3f2a.tmp"]);
    const names = (await Array.fromAsync(Deno.readDir(join(root, "x")))).map((e) => e.name).sort();
    assert.deepEqual(names, ["kept", "visible.tmp"]);
  });
});

Deno.test("temp files are written in .incoming, never in the directory that sync tools read", async () => {
  await withStore(async (store, root) => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.writeNew(() => `synced/f${i}`, new Uint8Array([i]))));
    assert.deepEqual(await Array.fromAsync(Deno.readDir(join(root, ".incoming"))), []);
    await Deno.writeFile(join(root, ".incoming", ".left-by-a-crash.tmp"), new Uint8Array([9]));
    assert.deepEqual(await store.sweepTempFiles(), [".incoming/.left-by-a-crash.tmp"]);
  });
});

Deno.test("sweepTempFiles on a missing root finds nothing", async () => {
  assert.deepEqual(await new FileBlobStore("/nonexistent/fieldgate-test").sweepTempFiles(), []);
});
