/** Chooses and opens the record store the configuration asks for. */
import { join } from "node:path";
import type { Config } from "../config.ts";
import { openSqliteStore } from "./sqlite/store.ts";
import type { RecordStore } from "./types.ts";

/** File name of the embedded database inside `dataDir`. */
export const SQLITE_FILE_NAME = "fieldgate.sqlite";

/**
 * Opens PostgreSQL when `databaseUrl` is a `postgres://` or `postgresql://`
 * URL, or SQLite at `<dataDir>/fieldgate.sqlite` when it is empty (creating the
 * directory); the schema is migrated either way.
 */
export async function openRecordStore(config: Config): Promise<RecordStore> {
  const url = config.databaseUrl;
  if (/^postgres(ql)?:\/\//.test(url)) {
    // Loaded only when used: an embedded (SQLite) server does not carry the driver in memory.
    const { openPostgresStore } = await import("./postgres/store.ts");
    return await openPostgresStore(url, config.commit);
  }
  if (url === "") {
    await Deno.mkdir(config.dataDir, { recursive: true });
    return await openSqliteStore(join(config.dataDir, SQLITE_FILE_NAME), config.commit);
  }
  // Only the scheme is shown: the rest may hold a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? "a value without a scheme";
  throw new Error(
    `unsupported databaseUrl (${scheme}): use postgres://user:password@host:5432/database for PostgreSQL, ` +
      "or leave it empty for SQLite under dataDir (FIELDGATE_DATABASE_URL, --database-url)",
  );
}
