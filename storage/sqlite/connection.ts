/** Opening a connection to the SQLite database with the settings every connection needs. */
import { DatabaseSync } from "node:sqlite";

/** How long a connection waits for another connection's or process's lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens `location` with a busy timeout and foreign keys on. Writers must also
 * set {@link DURABLE_COMMITS}: `synchronous` is per connection, not per file.
 */
export function openConnection(location: string): DatabaseSync {
  const db = new DatabaseSync(location);
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.exec("PRAGMA foreign_keys = ON");
  return db;
}

/**
 * In WAL mode, FULL fsyncs the WAL at every commit, so an acknowledged write
 * survives power loss, not just a crash of this process (NORMAL would not).
 */
export const DURABLE_COMMITS = "PRAGMA synchronous = FULL";
