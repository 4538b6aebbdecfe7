import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { MeterAppend } from "../../storage/meter_batch.ts";
import { fromColumns, settleFromOutcomes, toColumns, toOutcomes } from "../../storage/sqlite/meter_columns.ts";
import { MeterWriterThread } from "../../storage/sqlite/meter_writer.ts";
import { openSqliteStore } from "../../storage/sqlite/store.ts";
import { UnknownPubError } from "../../storage/types.ts";

function append(pubId: number, registerPub: boolean, voltage = 230.1): MeterAppend {
  const at = new Date(1_700_000_000_123);
  return {
    reading: { pubId, createdAt: new Date(1_600_000_000_000), savedAt: at, voltage, frequency: 49.95, protected: true },
    registerPub,
  };
}

Deno.test("meter columns carry every field exactly, and each item gets its own outcome back", () => {
  const items = [append(Number.MAX_SAFE_INTEGER, true, 0.1 + 0.2), { ...append(7, false), registerPub: false }];
  items[1].reading.protected = false;
  assert.deepEqual(fromColumns(toColumns(items)), items);

  items[0].result = 41;
  items[1].result = new UnknownPubError(7);
  const back = items.map(({ reading, registerPub }) => ({ reading, registerPub }) as MeterAppend);
  settleFromOutcomes(back, toOutcomes(items));
  assert.equal(back[0].result, 41);
  assert.ok(back[1].result instanceof UnknownPubError && back[1].result.pubId === 7);
});

Deno.test("the writer thread commits a batch on its own connection; unknown pubs are refused, not stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-meter-writer-" });
  const path = join(dir, "fieldgate.sqlite");
  try {
    await (await openSqliteStore(path, { maxDelayMs: 2, maxBatch: 500 })).close(); // creates and migrates
    const writer = new MeterWriterThread(path);
    const items = [append(101, true), append(202, false), append(101, true)];
    await writer.write(items);
    assert.equal(typeof items[0].result, "number");
    assert.equal(items[2].result, (items[0].result as number) + 1);
    assert.ok(items[1].result instanceof UnknownPubError);
    await writer.close();
    await assert.rejects(writer.write([append(101, true)]), /closed/);

    const db = new DatabaseSync(path, { readOnly: true });
    try {
      assert.deepEqual({ ...db.prepare("SELECT count(*) AS n, min(voltage) AS v FROM meter_readings").get() }, {
        n: 2,
        v: 230.1,
      });
      assert.deepEqual({ ...db.prepare("SELECT readings FROM pub WHERE pub_id = 101").get() }, { readings: 2 });
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a meter writer thread that cannot open its database refuses every write with the reason", async () => {
  const writer = new MeterWriterThread("/nonexistent-dir/fieldgate.sqlite");
  try {
    await assert.rejects(writer.write([append(101, true)]), /cannot open \/nonexistent-dir.*(unable to open|no such)/i);
    await assert.rejects(writer.write([append(101, true)]), /cannot open \/nonexistent-dir/);
  } finally {
    await writer.close();
  }
});

Deno.test("a SQLite store starts no writer thread until a reading is written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-meter-writer-" });
  const RealWorker = globalThis.Worker;
  let started = 0;
  globalThis.Worker = class extends RealWorker {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      super(...args);
      started++;
    }
  };
  try {
    const store = await openSqliteStore(join(dir, "fieldgate.sqlite"), { maxDelayMs: 2, maxBatch: 500 });
    try {
      assert.equal(started, 0, "opening the store started a writer thread");
      const reading = {
        pubId: 5,
        createdAt: new Date(),
        savedAt: new Date(),
        voltage: 230,
        frequency: 50,
        protected: true,
      };
      await store.meters.append(reading, { registerPub: true });
      assert.equal(started, 1, "the first reading should start the meter writer, and only it");
    } finally {
      await store.close();
    }
  } finally {
    globalThis.Worker = RealWorker;
    await Deno.remove(dir, { recursive: true });
  }
});
