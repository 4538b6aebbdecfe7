import assert from "node:assert/strict";
import { readFixture } from "../helpers/fixtures.ts";
import { createTestDatabase } from "../helpers/postgres.ts";
import { basicAuth, startTestServer } from "../helpers/server.ts";

Deno.test("on PostgreSQL the receiver stores and serves the fixture like on SQLite", async () => {
  const database = await createTestDatabase();
  try {
    await using server = await startTestServer({ databaseUrl: database.url });
    const response = await server.fetch("/ottt?stationid=0000452891&action=senddata", {
      method: "POST",
      body: await readFixture("ott-senddata.xml"),
      headers: basicAuth(),
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const values = await (await server.fetch("/api/ott/values?station=0000452891&channel=0002", {
      headers: basicAuth(),
    })).json();
    assert.deepEqual(values.map((v: { time: string; raw_value: string }) => [v.time, v.raw_value]), [
      ["2024-03-05T10:00:00.000Z", "7.4"],
      ["2024-03-05T10:15:00.000Z", "0"],
      ["2024-03-05T10:30:00.000Z", "7.5"],
    ]);
    const status = await (await server.fetch("/server-status", { headers: basicAuth() })).json();
    assert.equal(status.storage.backend, "postgres");
    assert.equal(status.stations[0].transmissions, 1);
  } finally {
    await database.drop();
  }
});
