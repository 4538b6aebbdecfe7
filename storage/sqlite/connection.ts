/** Opening a connection to the SQLite database with the settings every connection needs. */
import { DatabaseSync } from "node:sqlite";

/** How long a connection waits for another connection's or process's lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens `location` with a busy timeout and foreign keys on. Writers must also
 * call {@link configureWriter}: these settings are per connection, not per file.
 */
export function openConnection(location: string): DatabaseSync {
  const db = new DatabaseSync(location);
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.exec("PRAGMA foreign_keys = ON");
  return db;
}

/**
 * WAL pages past which a writer's COMMIT checkpoints by itself (64 MiB): only
 * when the checkpointer thread (checkpointer.ts) falls behind or fails, since
 * a checkpoint inside a COMMIT holds up everything waiting on that commit.
 */
export const WRITER_CHECKPOINT_PAGES = 16_384;

/**
 * Settings of every connection that writes. In WAL mode, FULL fsyncs the WAL
 * at every commit, so an acknowledged write survives power loss, not just a
 * crash of this process (NORMAL would not).
 */
export function configureWriter(db: DatabaseSync): void {
  db.exec("PRAGMA synchronous = FULL");
  db.exec(`PRAGMA wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
}
