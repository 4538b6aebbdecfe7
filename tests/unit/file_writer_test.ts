import assert from "node:assert/strict";
import { join } from "node:path";
import { FileWriterThread } from "../../storage/file_writer.ts";

async function withThread(test: (writer: FileWriterThread, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-file-writer-" });
  const writer = new FileWriterThread();
  try {
    await test(writer, dir);
  } finally {
    writer.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writes sent while a batch is in flight all land with their own bytes, and no temp file stays", async () => {
  await withThread(async (writer, dir) => {
    const linked = await Promise.all(
      Array.from(
        { length: 300 },
        (_, i) => writer.write(join(dir, `.t${i}.tmp`), [join(dir, `f${i}`)], Uint8Array.of(i % 256, 7)),
      ),
    );
    assert.ok(linked.every((index) => index === 0));
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name);
    assert.equal(names.length, 300);
    assert.ok(names.every((name) => !name.endsWith(".tmp")));
    assert.deepEqual(await Deno.readFile(join(dir, "f299")), Uint8Array.of(299 % 256, 7));
  });
});

Deno.test("the first free target is linked; -1 when every target exists, and the temp file is gone either way", async () => {
  await withThread(async (writer, dir) => {
    await Deno.writeTextFile(join(dir, "a"), "kept");
    assert.equal(await writer.write(join(dir, ".t1.tmp"), [join(dir, "a"), join(dir, "b")], Uint8Array.of(1)), 1);
    assert.equal(await writer.write(join(dir, ".t2.tmp"), [join(dir, "a"), join(dir, "b")], Uint8Array.of(2)), -1);
    assert.equal(await Deno.readTextFile(join(dir, "a")), "kept");
    assert.deepEqual(await Deno.readFile(join(dir, "b")), Uint8Array.of(1));
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort(), ["a", "b"]);
  });
});

Deno.test("a failed write rejects with Deno's own error class, leaves no temp file and harms no other write", async () => {
  await withThread(async (writer, dir) => {
    const [failed, fine] = await Promise.allSettled([
      writer.write(join(dir, ".t1.tmp"), [join(dir, "missing-dir", "x")], Uint8Array.of(1)),
      writer.write(join(dir, ".t2.tmp"), [join(dir, "y")], Uint8Array.of(2)),
    ]);
    assert.equal(failed.status, "rejected");
    assert.ok(failed.reason instanceof Deno.errors.NotFound, String(failed.reason));
    assert.deepEqual(fine, { status: "fulfilled", value: 0 });
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name), ["y"]);
  });
});

Deno.test("after close, writes are refused instead of waiting forever", async () => {
  const writer = new FileWriterThread();
  writer.close();
  await assert.rejects(writer.write("/nonexistent/.t.tmp", ["/nonexistent/x"], Uint8Array.of(1)), /closed/);
});
