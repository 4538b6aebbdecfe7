/**
 * Versioned schema for the PostgreSQL record store. Ids compared for order
 * use `COLLATE "C"` (bytewise, like SQLite), so both backends sort the same
 * and the keyset pages follow the primary-key index.
 */
import type postgres from "postgres";

/** One schema step; applied once, in version order, inside the migration transaction. */
export interface PostgresMigration {
  version: number;
  name: string;
  up: (tx: postgres.TransactionSql) => Promise<unknown>;
}

/** Every migration, oldest first. Never edit a released one: add the next version. */
export const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: "ott transmissions, values, alarms and station counters",
    up: async (tx) => {
      await tx`
        create table ott_transmissions (
          id bigint generated always as identity primary key,
          station_id text collate "C" not null,
          action text not null check (action in ('senddata', 'sendalarm')),
          received_at timestamptz not null,
          file text not null unique,
          bytes bigint not null,
          user_name text not null,
          remote_addr text not null,
          parse_error text
        )`;
      await tx`
        create table ott_values (
          station_id text collate "C" not null,
          channel_id text collate "C" not null,
          t timestamptz not null,
          channel_name text not null,
          unit text not null,
          value double precision,
          raw_value text not null,
          error_code text,
          error_text text,
          file text not null references ott_transmissions (file),
          primary key (station_id, channel_id, t)
        )`;
      await tx`
        create table ott_alarms (
          id bigint generated always as identity primary key,
          station_id text collate "C" not null,
          channel_id text collate "C" not null,
          t timestamptz,
          type text not null,
          message text not null,
          received_at timestamptz not null,
          file text not null references ott_transmissions (file)
        )`;
      await tx`create index ott_alarms_newest on ott_alarms (received_at desc, id desc)`;
      await tx`
        create table ott_stations (
          station_id text collate "C" primary key,
          transmissions bigint not null,
          alarms bigint not null,
          last_seen timestamptz not null
        )`;
    },
  },
  {
    version: 2,
    name: "m0v meters: sub, csub, pub, meter_readings, confo, cconfo",
    up: async (tx) => {
      await tx`
        create table sub (
          id bigint generated always as identity primary key,
          email text not null unique,
          created_at timestamptz not null default now()
        )`;
      await tx`
        create table csub (
          id bigint generated always as identity primary key,
          email text not null unique,
          first_seen timestamptz not null default now()
        )`;
      // pub_id is chosen by the device (or by a confirmation), so it is not generated. readings
      // counts meter_readings rows, kept by the batch that inserts them: listing meters never counts rows.
      await tx`
        create table pub (
          pub_id bigint primary key,
          hash bigint unique,
          creator bigint references sub (id),
          device_name text,
          created_at timestamptz not null default now(),
          readings bigint not null default 0
        )`;
      // The seed's "packet" table. bigint ids: at 50,000 readings/s a 32-bit serial runs out in
      // half a day. double precision, not the seed's real, so values read back exactly (as on SQLite).
      await tx`
        create table meter_readings (
          pub_id bigint not null references pub (pub_id),
          id bigint generated always as identity primary key,
          created_at timestamptz not null,
          saved_at timestamptz not null,
          voltage double precision not null,
          frequency double precision not null,
          protected boolean not null
        )`;
      await tx`create index meter_readings_by_pub on meter_readings (pub_id, created_at, id)`;
      // cconfo holds the conflicting confirmations (seed 004); same shape as confo.
      for (const table of ["confo", "cconfo"]) {
        await tx`
          create table ${tx(table)} (
            id bigint generated always as identity primary key,
            device_name text not null,
            ssid text not null,
            hash bigint not null,
            email text,
            timestamp timestamptz not null,
            received_at timestamptz not null
          )`;
        await tx`create index ${tx(`${table}_by_device`)} on ${tx(table)} (device_name, ssid, received_at)`;
      }
    },
  },
  {
    version: 3,
    name: "cmx track your steps: users, devices, distance, history, counts, zones",
    up: async (tx) => {
      await tx`
        create table cmx_users (
          email text collate "C" primary key,
          nickname text not null,
          created_at timestamptz not null default now()
        )`;
      // Registrations: which user owns a device (MAC as CMX reports it). Always logged.
      await tx`
        create table cmx_devices (
          mac text collate "C" primary key,
          owner text collate "C" not null references cmx_users (email) on delete cascade
        )`;
      await tx`create index cmx_devices_by_owner on cmx_devices (owner)`;
      // Per-device distance state (the seed's distance table). owner copies cmx_devices.owner, kept
      // in the same transactions, so the leader board walks one partial index. No foreign key, so
      // cmx.unlogged can make this table UNLOGGED. floor_id null: never sighted.
      await tx`
        create table cmx_distance (
          mac text collate "C" primary key,
          owner text collate "C",
          metres double precision not null default 0,
          floor_id text,
          p1x double precision, p1y double precision, p2x double precision, p2y double precision,
          segment_metres double precision,
          last_seen bigint
        )`;
      await tx`create index cmx_distance_ranked on cmx_distance (metres desc, mac) where owner is not null`;
      await tx`
        create table cmx_distance_history (
          mac text collate "C" not null,
          day text collate "C" not null,
          metres double precision not null,
          primary key (mac, day)
        )`;
      await tx`
        create table cmx_counts (
          minute timestamptz primary key,
          notification_count bigint not null,
          device_count bigint not null
        )`;
      await tx`
        create table cmx_zones (
          zone text collate "C" primary key,
          notification_count bigint not null,
          last_seen timestamptz not null
        )`;
    },
  },
  {
    version: 4,
    name: "data drop-off: projects and tus uploads",
    up: async (tx) => {
      await tx`
        create table dropoff_projects (
          id text collate "C" primary key,
          owner text not null,
          name text not null,
          code_hash text,
          max_size_bytes bigint,
          quota_bytes bigint,
          allowed_types text not null,
          expires_at timestamptz,
          created_at timestamptz not null
        )`;
      await tx`create index dropoff_projects_by_owner on dropoff_projects (owner, created_at)`;
      // metadata is JSON text (as on SQLite, so both map rows alike); upload_length null while deferred.
      await tx`
        create table tus_uploads (
          id text collate "C" primary key,
          project_id text collate "C" not null references dropoff_projects (id),
          upload_length bigint,
          upload_offset bigint not null,
          metadata text not null,
          created_at timestamptz not null,
          expires_at timestamptz not null,
          finished_at timestamptz,
          sha256 text
        )`;
      await tx`create index tus_uploads_by_project on tus_uploads (project_id, created_at)`;
      await tx`create index tus_uploads_unfinished on tus_uploads (expires_at) where finished_at is null`;
    },
  },
  {
    version: 5,
    name: "data drop-off: project public keys for encryption at rest",
    // Armored OpenPGP public key; null = uploads stay as sent.
    up: async (tx) => {
      await tx`alter table dropoff_projects add column public_key text`;
    },
  },
  {
    version: 6,
    name: "accounts, their email tokens and login sessions",
    up: async (tx) => {
      await tx`
        create table accounts (
          id text collate "C" primary key,
          email text collate "C" not null unique,
          username text collate "C" not null,
          password_hash text not null,
          activated boolean not null,
          disabled boolean not null,
          admin boolean not null,
          created_at timestamptz not null
        )`;
      // Usernames are ASCII (USERNAME_PATTERN), so lower() folds every case: "Alice" cannot pose as "alice".
      await tx`create unique index accounts_username on accounts (lower(username))`;
      // Only hashes: the tokens themselves exist in the emailed links and the cookies alone.
      await tx`
        create table account_tokens (
          token_hash text collate "C" primary key,
          account_id text collate "C" not null references accounts (id) on delete cascade,
          purpose text not null check (purpose in ('activation', 'reset')),
          expires_at timestamptz not null
        )`;
      await tx`create index account_tokens_by_account on account_tokens (account_id, purpose)`;
      await tx`
        create table account_sessions (
          session_hash text collate "C" primary key,
          account_id text collate "C" not null references accounts (id) on delete cascade,
          created_at timestamptz not null,
          last_seen_at timestamptz not null
        )`;
      await tx`create index account_sessions_by_account on account_sessions (account_id)`;
    },
  },
  {
    version: 7,
    name: "meters: readings keep their pub by construction instead of a per-row foreign key check",
    async up(tx) {
      // Every meter batch inserts or counts its readings' pubs in the same transaction, and pubs are
      // never deleted (the trigger refuses it), so the per-row check only cost time: 5,000 readings
      // took 68-85 ms to insert with it and 28-48 ms without (psql, this machine).
      await tx`alter table meter_readings drop constraint if exists meter_readings_pub_id_fkey`;
      await tx`
        create function refuse_pub_delete() returns trigger language plpgsql as $$
        begin
          raise exception 'pub rows are never deleted or truncated: meter readings refer to them';
        end $$`;
      await tx`
        create trigger pub_never_deleted before delete or truncate on pub
        for each statement execute function refuse_pub_delete()`;
    },
  },
  {
    version: 8,
    name: "data drop-off: tus concatenation (partial and final uploads)",
    // `partial` or `final;<upload id> <upload id> …`; null = an ordinary upload.
    up: async (tx) => {
      await tx`alter table tus_uploads add column upload_concat text`;
    },
  },
  {
    version: 9,
    name: "OTT: values keep their transmission by construction instead of a per-row foreign key check",
    async up(tx) {
      // As migration 7 for meters: every batch inserts its transmissions and their values in one
      // transaction, and transmissions are never deleted (the trigger refuses it), so the per-row check
      // only cost time: 330,000 values took 3.95 s to upsert with it and 2.41 s without (psql, this machine).
      await tx`alter table ott_values drop constraint if exists ott_values_file_fkey`;
      await tx`
        create function refuse_ott_transmission_delete() returns trigger language plpgsql as $$
        begin
          raise exception 'ott_transmissions rows are never deleted or truncated: OTT values refer to them';
        end $$`;
      await tx`
        create trigger ott_transmissions_never_deleted before delete or truncate on ott_transmissions
        for each statement execute function refuse_ott_transmission_delete()`;
    },
  },
];

/** Advisory lock key serialising migrations of every fieldgate instance sharing a database. */
const MIGRATION_LOCK_KEY = 0x6669656c64; // "field"

/** Applies the missing migrations in one transaction; safe when several instances start at once. */
export async function migrate(sql: postgres.Sql): Promise<void> {
  await sql.begin(async (tx) => {
    // Taken before even creating schema_migrations: concurrent `create table if not exists` can still collide.
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`;
    await tx`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`;
    const applied = new Set((await tx`select version from schema_migrations`).map((row) => row.version));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await migration.up(tx);
      await tx`insert into schema_migrations (version, name) values (${migration.version}, ${migration.name})`;
    }
  });
}
