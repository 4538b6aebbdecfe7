import assert from "node:assert/strict";
import { join } from "node:path";
import type { MeterAppend } from "../../storage/meter_batch.ts";
import { Checkpointer } from "../../storage/sqlite/checkpointer.ts";
import { MeterWriterThread } from "../../storage/sqlite/meter_writer.ts";
import { openSqliteStore } from "../../storage/sqlite/store.ts";

const PAGE_BYTES = 4096;
/** Where SQLite's default would have checkpointed inside a COMMIT. */
const DEFAULT_CHECKPOINT_PAGES = 1000;

function readings(count: number, pubId: number): MeterAppend[] {
  return Array.from({ length: count }, (_, i) => ({
    reading: {
      pubId,
      createdAt: new Date(1_600_000_000_000 + i),
      savedAt: new Date(1_700_000_000_000 + i),
      voltage: 230 + i / count,
      frequency: 50,
      protected: false,
    },
    registerPub: true,
  }));
}

async function withDatabase(test: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-checkpoint-" });
  try {
    const path = join(dir, "fieldgate.sqlite");
    await (await openSqliteStore(path, { maxDelayMs: 2, maxBatch: 500 })).close(); // creates and migrates
    await test(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writers leave checkpoints to the checkpointer thread, which copies every frame and lets the WAL restart", async () => {
  await withDatabase(async (path) => {
    const writer = await MeterWriterThread.start(path);
    try {
      for (let batch = 0; batch < 60; batch++) await writer.write(readings(1000, 7));
      // Past the default 1,000 pages no COMMIT checkpointed: the WAL kept every frame.
      const walBytes = (await Deno.stat(`${path}-wal`)).size;
      assert.ok(walBytes > DEFAULT_CHECKPOINT_PAGES * PAGE_BYTES, `WAL only ${walBytes} bytes`);

      const checkpointer = await Checkpointer.start(path);
      try {
        const first = await checkpointer.checkpoint();
        assert.ok(first.walFrames > DEFAULT_CHECKPOINT_PAGES, JSON.stringify(first));
        assert.equal(first.checkpointedFrames, first.walFrames);
        // The next commit starts the WAL over from its beginning instead of growing it.
        await writer.write(readings(10, 7));
        const second = await checkpointer.checkpoint();
        assert.ok(second.walFrames < 50, JSON.stringify(second));
        assert.equal(second.checkpointedFrames, second.walFrames);
        assert.equal((await Deno.stat(`${path}-wal`)).size, walBytes);
      } finally {
        await checkpointer.close();
      }
    } finally {
      await writer.close();
    }
  });
});

Deno.test("an open store checkpoints on its own while nothing commits", async () => {
  await withDatabase(async (path) => {
    const store = await openSqliteStore(path, { maxDelayMs: 2, maxBatch: 500 });
    try {
      const sizeBefore = (await Deno.stat(path)).size;
      // Some 1,000 new pages (60,000 readings with their index), written through the store's meter writer thread.
      const pending = readings(60_000, 9).map(({ reading }) => store.meters.append(reading, { registerPub: true }));
      await Promise.all(pending);
      // Pages reach the database file only through a checkpoint, and no writer checkpoints at this size.
      const deadline = Date.now() + 5_000;
      while ((await Deno.stat(path)).size <= sizeBefore + 250 * PAGE_BYTES) {
        assert.ok(Date.now() < deadline, `the database file stayed at ${(await Deno.stat(path)).size} bytes`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await store.close();
    }
  });
});
