import assert from "node:assert/strict";
import postgres from "postgres";
import { loadConfig } from "../../config.ts";
import { openRecordStore } from "../../storage/open.ts";
import type { RecordStore } from "../../storage/types.ts";
import { oneValueOttRecord } from "../helpers/ott_record.ts";
import { createTestDatabase } from "../helpers/postgres.ts";

/** Stores what `record` writes through a fresh store, closes it, then hands a plain connection to `check`. */
async function afterRecording(
  record: (store: RecordStore) => Promise<void>,
  check: (sql: postgres.Sql) => Promise<void>,
): Promise<void> {
  const database = await createTestDatabase();
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-delete-guard-" });
  const sql = postgres(database.url, { onnotice: () => {} });
  try {
    const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: database.url } }));
    try {
      await record(store);
    } finally {
      await store.close();
    }
    await check(sql);
  } finally {
    await sql.end();
    await database.drop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("PostgreSQL: pubs with readings cannot be deleted or truncated, since no foreign key checks each reading", async () => {
  await afterRecording(async (store) => {
    const now = new Date();
    const reading = { pubId: 42, createdAt: now, savedAt: now, voltage: 230, frequency: 50, protected: false };
    await store.meters.append(reading, { registerPub: true });
  }, async (sql) => {
    await assert.rejects(sql`delete from pub where pub_id = 42`, /never deleted/);
    await assert.rejects(sql`truncate pub cascade`, /never deleted/);
    const [{ readings }] = await sql`select count(*)::int as readings from meter_readings where pub_id = 42`;
    assert.equal(readings, 1);
  });
});

Deno.test("PostgreSQL: OTT transmissions cannot be deleted or truncated, since no foreign key checks each value", async () => {
  const file = "senddata/2023/11/14/0000452891_2023-11-14T22+13+20.123000";
  await afterRecording(async (store) => {
    await store.ott.record(oneValueOttRecord(file, 0.85));
  }, async (sql) => {
    await assert.rejects(sql`delete from ott_transmissions where file = ${file}`, /never deleted/);
    await assert.rejects(sql`truncate ott_transmissions cascade`, /never deleted/);
    const [{ values }] = await sql`select count(*)::int as values from ott_values where file = ${file}`;
    assert.equal(values, 1);
  });
});
