import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config.ts";
import { openRecordStore } from "../../storage/open.ts";
import { openSqliteStore } from "../../storage/sqlite/store.ts";
import { redactDatabaseUrl } from "../../storage/postgres/store.ts";

Deno.test("openRecordStore: an empty databaseUrl opens SQLite in dataDir, creating it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-open-" });
  try {
    const dataDir = join(dir, "not", "yet", "there");
    const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: "" } }));
    try {
      assert.equal(store.backend, "sqlite");
      assert.equal(store.location, join(dataDir, "fieldgate.sqlite"));
      await store.ping();
      assert.ok((await Deno.stat(store.location)).isFile);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSqliteStore: a path it cannot open is a rejection naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-open-" });
  try {
    const path = join(dir, "missing", "fieldgate.sqlite");
    await assert.rejects(openSqliteStore(path, { maxDelayMs: 2, maxBatch: 500 }), (error: Error) => {
      assert.ok(error.message.startsWith(`cannot open SQLite database ${path}: `), error.message);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRecordStore: a postgres:// URL goes to PostgreSQL, whose errors never show the password", async () => {
  for (
    const databaseUrl of [
      "postgres://fieldgate:s3cret@127.0.0.1:1/fieldgate",
      "postgresql://fieldgate:s3cret@127.0.0.1:1/x",
    ]
  ) {
    await assert.rejects(openRecordStore(loadConfig({ overrides: { databaseUrl } })), (error: Error) => {
      assert.match(error.message, /cannot connect to PostgreSQL at postgres(ql)?:\/\/fieldgate@127\.0\.0\.1:1\//);
      assert.match(error.message, /Check that the server is running/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  }
});

Deno.test("openRecordStore: any other URL is a clear error without the URL's secrets", async () => {
  await assert.rejects(
    openRecordStore(loadConfig({ overrides: { databaseUrl: "mysql://root:s3cret@db/fieldgate" } })),
    (error: Error) => {
      assert.match(error.message, /unsupported databaseUrl \(mysql:\).*postgres:\/\//);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    },
  );
});

Deno.test("redactDatabaseUrl: drops the password, keeps what helps find the server", () => {
  assert.equal(
    redactDatabaseUrl("postgres://u:p%40ss@db.example:6543/fg?sslmode=require"),
    "postgres://u@db.example:6543/fg?sslmode=require",
  );
  assert.equal(redactDatabaseUrl("postgres://db/fg?user=u&password=pw"), "postgres://db/fg?user=u");
  assert.equal(redactDatabaseUrl("not a url"), "(unparsable database URL)");
});
