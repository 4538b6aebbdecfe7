import assert from "node:assert/strict";
import postgres from "postgres";
import { loadConfig } from "../../config.ts";
import { openRecordStore } from "../../storage/open.ts";
import { createTestDatabase } from "../helpers/postgres.ts";

Deno.test("PostgreSQL: pubs with readings cannot be deleted or truncated, since no foreign key checks each reading", async () => {
  const database = await createTestDatabase();
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-pub-guard-" });
  const sql = postgres(database.url, { onnotice: () => {} });
  try {
    const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: database.url } }));
    try {
      const now = new Date();
      const reading = { pubId: 42, createdAt: now, savedAt: now, voltage: 230, frequency: 50, protected: false };
      await store.meters.append(reading, { registerPub: true });
    } finally {
      await store.close();
    }
    await assert.rejects(sql`delete from pub where pub_id = 42`, /never deleted/);
    await assert.rejects(sql`truncate pub cascade`, /never deleted/);
    const [{ readings }] = await sql`select count(*)::int as readings from meter_readings where pub_id = 42`;
    assert.equal(readings, 1);
  } finally {
    await sql.end();
    await database.drop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
