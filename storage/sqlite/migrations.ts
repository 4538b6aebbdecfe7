/**
 * Versioned schema for the SQLite record store. Times are integer
 * milliseconds since the epoch (UTC); text compares bytewise (BINARY), the
 * same order as PostgreSQL's `COLLATE "C"` columns.
 */
import type { DatabaseSync } from "node:sqlite";

/** One schema step; applied once, in version order, inside the migration transaction. */
export interface SqliteMigration {
  version: number;
  name: string;
  up: (db: DatabaseSync) => void;
}

/** Every migration, oldest first. Never edit a released one: add the next version. */
export const MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: "ott transmissions, values, alarms and station counters",
    up: (db) =>
      db.exec(`
        CREATE TABLE ott_transmissions (
          id INTEGER PRIMARY KEY,
          station_id TEXT NOT NULL,
          action TEXT NOT NULL CHECK (action IN ('senddata', 'sendalarm')),
          received_at INTEGER NOT NULL,
          file TEXT NOT NULL UNIQUE,
          bytes INTEGER NOT NULL,
          user_name TEXT NOT NULL,
          remote_addr TEXT NOT NULL,
          parse_error TEXT
        ) STRICT;

        CREATE TABLE ott_values (
          station_id TEXT NOT NULL,
          channel_id TEXT NOT NULL,
          t INTEGER NOT NULL,
          channel_name TEXT NOT NULL,
          unit TEXT NOT NULL,
          value REAL,
          raw_value TEXT NOT NULL,
          error_code TEXT,
          error_text TEXT,
          file TEXT NOT NULL REFERENCES ott_transmissions (file),
          PRIMARY KEY (station_id, channel_id, t)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE ott_alarms (
          id INTEGER PRIMARY KEY,
          station_id TEXT NOT NULL,
          channel_id TEXT NOT NULL,
          t INTEGER,
          type TEXT NOT NULL,
          message TEXT NOT NULL,
          received_at INTEGER NOT NULL,
          file TEXT NOT NULL REFERENCES ott_transmissions (file)
        ) STRICT;
        CREATE INDEX ott_alarms_newest ON ott_alarms (received_at DESC, id DESC);

        CREATE TABLE ott_stations (
          station_id TEXT PRIMARY KEY,
          transmissions INTEGER NOT NULL,
          alarms INTEGER NOT NULL,
          last_seen INTEGER NOT NULL
        ) STRICT;
      `),
  },
  {
    version: 2,
    name: "m0v meters: sub, csub, pub, meter_readings, confo, cconfo",
    up: (db) =>
      db.exec(`
        CREATE TABLE sub (
          id INTEGER PRIMARY KEY,
          email TEXT NOT NULL UNIQUE,
          created_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE csub (
          id INTEGER PRIMARY KEY,
          email TEXT NOT NULL UNIQUE,
          first_seen INTEGER NOT NULL
        ) STRICT;

        -- readings counts meter_readings rows (kept by the batch that inserts them), so listing
        -- meters never counts rows.
        CREATE TABLE pub (
          pub_id INTEGER PRIMARY KEY,
          hash INTEGER UNIQUE,
          creator INTEGER REFERENCES sub (id),
          device_name TEXT,
          created_at INTEGER NOT NULL,
          readings INTEGER NOT NULL DEFAULT 0
        ) STRICT;

        -- The seed's "packet" table. REAL is an 8-byte float in SQLite: values read back exactly.
        CREATE TABLE meter_readings (
          pub_id INTEGER NOT NULL REFERENCES pub (pub_id),
          id INTEGER PRIMARY KEY,
          created_at INTEGER NOT NULL,
          saved_at INTEGER NOT NULL,
          voltage REAL NOT NULL,
          frequency REAL NOT NULL,
          protected INTEGER NOT NULL CHECK (protected IN (0, 1))
        ) STRICT;
        CREATE INDEX meter_readings_by_pub ON meter_readings (pub_id, created_at, id);

        CREATE TABLE confo (
          id INTEGER PRIMARY KEY,
          device_name TEXT NOT NULL,
          ssid TEXT NOT NULL,
          hash INTEGER NOT NULL,
          email TEXT,
          timestamp INTEGER NOT NULL,
          received_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX confo_by_device ON confo (device_name, ssid, received_at);

        -- Conflicting confirmations (seed 004): same shape as confo.
        CREATE TABLE cconfo (
          id INTEGER PRIMARY KEY,
          device_name TEXT NOT NULL,
          ssid TEXT NOT NULL,
          hash INTEGER NOT NULL,
          email TEXT,
          timestamp INTEGER NOT NULL,
          received_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX cconfo_by_device ON cconfo (device_name, ssid, received_at);
      `),
  },
  {
    version: 3,
    name: "cmx track your steps: users, devices, distance, history, counts, zones",
    up: (db) =>
      db.exec(`
        CREATE TABLE cmx_users (
          email TEXT PRIMARY KEY,
          nickname TEXT NOT NULL,
          created_at INTEGER NOT NULL
        ) STRICT;

        -- Registrations: which user owns a device (MAC as CMX reports it).
        CREATE TABLE cmx_devices (
          mac TEXT PRIMARY KEY,
          owner TEXT NOT NULL REFERENCES cmx_users (email) ON DELETE CASCADE
        ) STRICT;
        CREATE INDEX cmx_devices_by_owner ON cmx_devices (owner);

        -- Per-device distance state (the seed's distance table). owner copies cmx_devices.owner,
        -- kept in the same transactions, so the leader board walks one partial index.
        -- floor_id NULL: never sighted.
        CREATE TABLE cmx_distance (
          mac TEXT PRIMARY KEY,
          owner TEXT,
          metres REAL NOT NULL DEFAULT 0,
          floor_id TEXT,
          p1x REAL, p1y REAL, p2x REAL, p2y REAL,
          segment_metres REAL,
          last_seen INTEGER
        ) STRICT;
        CREATE INDEX cmx_distance_ranked ON cmx_distance (metres DESC, mac) WHERE owner IS NOT NULL;

        CREATE TABLE cmx_distance_history (
          mac TEXT NOT NULL,
          day TEXT NOT NULL,
          metres REAL NOT NULL,
          PRIMARY KEY (mac, day)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE cmx_counts (
          minute INTEGER PRIMARY KEY,
          notification_count INTEGER NOT NULL,
          device_count INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE cmx_zones (
          zone TEXT PRIMARY KEY,
          notification_count INTEGER NOT NULL,
          last_seen INTEGER NOT NULL
        ) STRICT;
      `),
  },
  {
    version: 4,
    name: "data drop-off: projects and tus uploads",
    up: (db) =>
      db.exec(`
        CREATE TABLE dropoff_projects (
          id TEXT PRIMARY KEY,
          owner TEXT NOT NULL,
          name TEXT NOT NULL,
          code_hash TEXT,
          max_size_bytes INTEGER,
          quota_bytes INTEGER,
          allowed_types TEXT NOT NULL,
          expires_at INTEGER,
          created_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX dropoff_projects_by_owner ON dropoff_projects (owner, created_at);

        -- metadata is JSON; upload_length NULL while deferred.
        CREATE TABLE tus_uploads (
          id TEXT PRIMARY KEY,
          project_id TEXT NOT NULL REFERENCES dropoff_projects (id),
          upload_length INTEGER,
          upload_offset INTEGER NOT NULL,
          metadata TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          finished_at INTEGER,
          sha256 TEXT
        ) STRICT;
        CREATE INDEX tus_uploads_by_project ON tus_uploads (project_id, created_at);
        CREATE INDEX tus_uploads_unfinished ON tus_uploads (expires_at) WHERE finished_at IS NULL;
      `),
  },
  {
    version: 5,
    name: "data drop-off: project public keys for encryption at rest",
    // Armored OpenPGP public key; NULL = uploads stay as sent.
    up: (db) => db.exec("ALTER TABLE dropoff_projects ADD COLUMN public_key TEXT"),
  },
  {
    version: 6,
    name: "accounts, their email tokens and login sessions",
    up: (db) =>
      db.exec(`
        CREATE TABLE accounts (
          id TEXT PRIMARY KEY,
          email TEXT NOT NULL UNIQUE,
          username TEXT NOT NULL,
          password_hash TEXT NOT NULL,
          activated INTEGER NOT NULL CHECK (activated IN (0, 1)),
          disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
          admin INTEGER NOT NULL CHECK (admin IN (0, 1)),
          created_at INTEGER NOT NULL
        ) STRICT;
        -- Usernames are ASCII (USERNAME_PATTERN), so lower() folds every case: "Alice" cannot pose as "alice".
        CREATE UNIQUE INDEX accounts_username ON accounts (lower(username));

        -- Only hashes: the tokens themselves exist in the emailed links and the cookies alone.
        CREATE TABLE account_tokens (
          token_hash TEXT PRIMARY KEY,
          account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
          purpose TEXT NOT NULL CHECK (purpose IN ('activation', 'reset')),
          expires_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX account_tokens_by_account ON account_tokens (account_id, purpose);

        CREATE TABLE account_sessions (
          session_hash TEXT PRIMARY KEY,
          account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
          created_at INTEGER NOT NULL,
          last_seen_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX account_sessions_by_account ON account_sessions (account_id);
      `),
  },
  // Version 7 exists on PostgreSQL only (a meter constraint SQLite never had); numbers stay unique across both.
  {
    version: 8,
    name: "data drop-off: tus concatenation (partial and final uploads)",
    // `partial` or `final;<upload id> <upload id> …`; NULL = an ordinary upload.
    up: (db) => db.exec("ALTER TABLE tus_uploads ADD COLUMN upload_concat TEXT"),
  },
];

/**
 * Runs `work` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up
 * front (waiting up to busy_timeout), so a transaction never fails halfway
 * because another process started writing first.
 */
export function immediateTransaction<R>(db: DatabaseSync, work: () => R): R {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** Applies the missing migrations in one transaction; safe when several processes open the file at once. */
export function migrate(db: DatabaseSync): void {
  immediateTransaction(db, () => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at INTEGER NOT NULL
      ) STRICT
    `);
    const applied = new Set(db.prepare("SELECT version FROM schema_migrations").all().map((row) => row.version));
    const markApplied = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      migration.up(db);
      markApplied.run(migration.version, migration.name, Date.now());
    }
  });
}
