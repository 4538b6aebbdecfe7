import assert from "node:assert/strict";
import { DiskFlusher } from "../../storage/disk_flusher.ts";

/** Bytes of `path` in the page cache, by util-linux's fincore. */
async function cachedBytes(path: string): Promise<number> {
  const { stdout } = await new Deno.Command("fincore", { args: ["--bytes", "--noheadings", "--output", "RES", path] })
    .output();
  return Number(new TextDecoder().decode(stdout).trim());
}

Deno.test("disk flusher: written bytes are synced, then no longer held in the page cache", async () => {
  // In the checkout (tests/tmp is ignored by git): a tmpfs /tmp would keep its pages whatever we advise.
  await Deno.mkdir("tests/tmp", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "tests/tmp", prefix: "disk-flusher-" });
  const path = `${dir}/upload.bin`;
  try {
    await using file = await Deno.open(path, { write: true, create: true });
    await file.write(new Uint8Array(8 * 1024 * 1024).fill(7));
    assert.ok(await cachedBytes(path) >= 4 * 1024 * 1024, "the fresh write should be in the page cache");

    const flusher = await DiskFlusher.open(path);
    try {
      await flusher.syncData();
    } finally {
      flusher.close();
    }
    assert.equal(await cachedBytes(path), 0);
    assert.deepEqual(await Deno.readFile(path), new Uint8Array(8 * 1024 * 1024).fill(7));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("disk flusher: a file that is not there is refused when opened", async () => {
  await assert.rejects(DiskFlusher.open("./no-such-upload.bin"), Deno.errors.NotFound);
});
