import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { OttWriterThread } from "../../storage/sqlite/ott_writer.ts";
import { openSqliteStore } from "../../storage/sqlite/store.ts";
import { oneValueOttRecord as record } from "../helpers/ott_record.ts";

async function withDatabase(test: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-ott-writer-" });
  const path = join(dir, "fieldgate.sqlite");
  try {
    await (await openSqliteStore(path, { maxDelayMs: 2, maxBatch: 500 })).close(); // creates and migrates
    await test(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function query(path: string, sql: string): Record<string, unknown> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return { ...db.prepare(sql).get() };
  } finally {
    db.close();
  }
}

Deno.test("the OTT writer thread commits a batch's rows on its own connection, the later value winning", async () => {
  await withDatabase(async (path) => {
    const writer = new OttWriterThread(path);
    await writer.write([record("senddata/a", 1.5), record("senddata/b", 2.5)]);
    await writer.close();
    await assert.rejects(writer.write([record("senddata/c", 3)]), /closed/);
    assert.deepEqual(query(path, "SELECT count(*) AS n FROM ott_transmissions"), { n: 2 });
    assert.deepEqual(query(path, "SELECT value, file FROM ott_values"), { value: 2.5, file: "senddata/b" });
    assert.deepEqual(query(path, "SELECT transmissions FROM ott_stations"), { transmissions: 2 });
  });
});

Deno.test("a batch the database refuses commits none of its rows and says why", async () => {
  await withDatabase(async (path) => {
    const writer = new OttWriterThread(path);
    try {
      await writer.write([record("senddata/a", 1)]);
      // The same file twice breaks the transmissions' unique file: the whole batch is rolled back.
      await assert.rejects(writer.write([record("senddata/b", 2), record("senddata/a", 3)]), /UNIQUE/);
      await writer.write([record("senddata/c", 4)]);
    } finally {
      await writer.close();
    }
    assert.deepEqual(query(path, "SELECT group_concat(file) AS files FROM ott_transmissions ORDER BY file"), {
      files: "senddata/a,senddata/c",
    });
    assert.deepEqual(query(path, "SELECT value FROM ott_values"), { value: 4 });
  });
});

Deno.test("an OTT writer thread that cannot open its database refuses every write with the reason", async () => {
  const writer = new OttWriterThread("/nonexistent-dir/fieldgate.sqlite");
  try {
    await assert.rejects(
      writer.write([record("senddata/a", 1)]),
      /cannot open \/nonexistent-dir.*(unable to open|no such)/i,
    );
    await assert.rejects(writer.write([record("senddata/a", 1)]), /cannot open \/nonexistent-dir/);
  } finally {
    await writer.close();
  }
});
