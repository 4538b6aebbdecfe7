/**
 * PostgreSQL record store, on postgres.js. Each group-commit batch is one
 * transaction of a few multi-row statements, sent pipelined in one round trip.
 * Several fieldgate instances may share the database.
 */
import postgres from "postgres";
import { type GroupCommitOptions, GroupCommitQueue } from "../group_commit.ts";
import { checkLimit, ottBatchRows, pagedValues, type ValueKey } from "../ott_batch.ts";
import type {
  CmxStore,
  ConfoStore,
  DropoffStore,
  MeterStore,
  OttRecord,
  OttStore,
  OttValueFilter,
  RecordStore,
  StationSummary,
  StoredOttAlarm,
  StoredOttValue,
} from "../types.ts";
import type { AccountStore } from "../account_types.ts";
import { PostgresAccountStore } from "./account_store.ts";
import { PostgresCmxStore } from "./cmx_store.ts";
import { PostgresConfoStore } from "./confo_store.ts";
import { PostgresDropoffStore } from "./dropoff_store.ts";
import { PostgresMeterStore } from "./meter_store.ts";
import { migrate } from "./migrations.ts";
import { databaseUnavailable } from "./transaction.ts";

/** `url` without its password, safe for logs and the status page. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    parsed.searchParams.delete("password");
    return parsed.toString();
  } catch {
    return "(unparsable database URL)";
  }
}

/**
 * Connects to `url` and applies missing migrations. Rejects with a message
 * naming the server (never the password) and what to check when it cannot connect.
 */
export async function openPostgresStore(url: string, commitOptions: GroupCommitOptions): Promise<RecordStore> {
  const location = redactDatabaseUrl(url);
  let sql: postgres.Sql;
  try {
    sql = postgres(url, { connect_timeout: 10, backoff: reconnectDelaySeconds, onnotice: () => {} });
  } catch (error) {
    throw connectionError(location, error);
  }
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw connectionError(location, error);
  }
  try {
    await migrate(sql);
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw new Error(`cannot migrate the PostgreSQL database at ${location}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // Upload locks hold a connection for a whole PATCH: they get a pool of their own, so many uploads
  // at once wait for each other instead of starving every other query of the main pool.
  const lockSql = postgres(url, {
    max: UPLOAD_LOCK_CONNECTIONS,
    connect_timeout: 10,
    backoff: reconnectDelaySeconds,
    onnotice: () => {},
  });
  // The /live lookups share one pipelined connection: spread over the pool, each wakes a backend of its own, which
  // on a busy machine costs more than the index lookup (one connection: about 30 % more username_data/s under load).
  const liveSql = postgres(url, { max: 1, connect_timeout: 10, backoff: reconnectDelaySeconds, onnotice: () => {} });
  return new PostgresRecordStore({ sql, lockSql, liveSql }, location, commitOptions);
}

/**
 * Seconds a pool connection waits before reconnecting after its `retries`-th failure in a row.
 * postgres.js's default grows to 20 s, and every query waiting for that connection waits as long:
 * during an outage requests hung instead of failing, and recovery lagged the database by as much.
 * Capped at half a second, requests fail fast and fieldgate is back within a second of the database.
 */
function reconnectDelaySeconds(retries: number): number {
  return Math.min(0.05 * 2 ** retries, 0.5);
}

/** Most PATCHes holding an upload lock at once per instance; more wait for a free lock connection. */
const UPLOAD_LOCK_CONNECTIONS = 32;

function connectionError(location: string, cause: unknown): Error {
  return new Error(
    `cannot connect to PostgreSQL at ${location}: ${(cause as Error).message}. ` +
      "Check that the server is running and accepts TCP connections at that host and port, " +
      "that the database exists, and that the user and password in the database URL (FIELDGATE_DATABASE_URL) are right.",
    { cause },
  );
}

class PostgresRecordStore implements RecordStore {
  readonly backend = "postgres";
  readonly location: string;
  readonly ott: OttStore;
  readonly meters: MeterStore;
  readonly confo: ConfoStore;
  readonly cmx: CmxStore;
  readonly dropoff: DropoffStore;
  readonly accounts: AccountStore;
  readonly #sql: postgres.Sql;
  readonly #lockSql: postgres.Sql;
  readonly #liveSql: postgres.Sql;
  readonly #queue: GroupCommitQueue<OttRecord>;
  readonly #meters: PostgresMeterStore;
  readonly #cmx: PostgresCmxStore;

  constructor(
    { sql, lockSql, liveSql }: { sql: postgres.Sql; lockSql: postgres.Sql; liveSql: postgres.Sql },
    location: string,
    options: GroupCommitOptions,
  ) {
    // An unreachable database fails a whole batch at once: see GroupCommitOptions.failsWholeBatch.
    const commitOptions = { ...options, failsWholeBatch: databaseUnavailable };
    this.#sql = sql;
    this.#lockSql = lockSql;
    this.#liveSql = liveSql;
    this.location = location;
    this.#queue = new GroupCommitQueue((records) => writeOttBatch(sql, records), commitOptions);
    this.ott = new PostgresOttStore(sql, this.#queue);
    // Readings get their own queue, so their batches commit in parallel with OTT batches on
    // another pooled connection, and a burst of readings never waits behind OTT records.
    this.meters = this.#meters = new PostgresMeterStore(sql, commitOptions);
    this.confo = new PostgresConfoStore(sql);
    this.dropoff = new PostgresDropoffStore(sql, lockSql);
    this.accounts = new PostgresAccountStore(sql);
    // CMX posts get their own queue too, committing in parallel on another pooled connection.
    this.cmx = this.#cmx = new PostgresCmxStore(sql, liveSql, commitOptions);
  }

  async ping(): Promise<void> {
    await this.#sql`select 1`;
  }

  async close(): Promise<void> {
    await Promise.all([this.#queue.close(), this.#meters.close(), this.#cmx.close()]);
    await Promise.all([this.#sql, this.#lockSql, this.#liveSql].map((pool) => pool.end({ timeout: 5 })));
  }
}

/**
 * Commits one batch as one statement (its own transaction): the transmissions, values, alarms and station
 * counters as data-modifying CTEs, so a batch costs one round trip where BEGIN, the statements and COMMIT took
 * three. Each kind of row goes as one JSON parameter, sent as text (postgres.js would encode a json parameter
 * a second time): serialising ten parameters per value on the event loop cost more than everything else a
 * transmission needs. Times go as epoch milliseconds and values as text, so neither loses precision and an
 * infinite value stays one (JSON has no Infinity). The foreign keys from values and alarms to their
 * transmission are checked at the end of the statement, when the transmissions are in.
 */
async function writeOttBatch(sql: postgres.Sql, records: OttRecord[]): Promise<void> {
  const rows = ottBatchRows(records);
  const transmissions = JSON.stringify(rows.transmissions.map((t) => ({
    station_id: t.stationId,
    action: t.action,
    received_at: t.receivedAt.getTime(),
    file: t.file,
    bytes: t.bytes,
    user_name: t.user,
    remote_addr: t.remoteAddr,
    parse_error: t.parseError,
  })));
  const values = JSON.stringify(rows.values.map((v) => ({
    station_id: v.stationId,
    channel_id: v.channelId,
    t: v.time.getTime(),
    channel_name: v.channelName,
    unit: v.unit,
    value: v.value === null ? null : String(v.value),
    raw_value: v.rawValue,
    error_code: v.errorCode,
    error_text: v.errorText,
    file: v.file,
  })));
  const alarms = JSON.stringify(rows.alarms.map((a) => ({
    station_id: a.stationId,
    channel_id: a.channelId,
    t: a.time?.getTime() ?? null,
    type: a.type,
    message: a.message,
    received_at: a.receivedAt.getTime(),
    file: a.file,
  })));
  const stations = JSON.stringify(rows.stations.map((s) => ({
    station_id: s.stationId,
    transmissions: s.transmissions,
    alarms: s.alarms,
    last_seen: s.lastSeen.getTime(),
  })));
  await sql`
    with transmissions as (
      insert into ott_transmissions (station_id, action, received_at, file, bytes, user_name, remote_addr, parse_error)
      select station_id, action, timestamptz 'epoch' + received_at * interval '1 millisecond', file, bytes, user_name,
        remote_addr, parse_error
      from json_to_recordset(${transmissions}::text::json) as r(station_id text, action text, received_at bigint,
        file text, bytes bigint, user_name text, remote_addr text, parse_error text)
    ), ott_values as (
      insert into ott_values (station_id, channel_id, t, channel_name, unit, value, raw_value, error_code, error_text, file)
      select station_id, channel_id, timestamptz 'epoch' + t * interval '1 millisecond', channel_name, unit,
        value::float8, raw_value, error_code, error_text, file
      from json_to_recordset(${values}::text::json) as v(station_id text, channel_id text, t bigint,
        channel_name text, unit text, value text, raw_value text, error_code text, error_text text, file text)
      on conflict (station_id, channel_id, t) do update set
        channel_name = excluded.channel_name, unit = excluded.unit, value = excluded.value,
        raw_value = excluded.raw_value, error_code = excluded.error_code, error_text = excluded.error_text,
        file = excluded.file
    ), ott_alarms as (
      insert into ott_alarms (station_id, channel_id, t, type, message, received_at, file)
      select station_id, channel_id, timestamptz 'epoch' + t * interval '1 millisecond', type, message,
        timestamptz 'epoch' + received_at * interval '1 millisecond', file
      from json_to_recordset(${alarms}::text::json) as a(station_id text, channel_id text, t bigint, type text,
        message text, received_at bigint, file text)
    )
    insert into ott_stations (station_id, transmissions, alarms, last_seen)
    select station_id, transmissions, alarms, timestamptz 'epoch' + last_seen * interval '1 millisecond'
    from json_to_recordset(${stations}::text::json) as s(station_id text, transmissions bigint, alarms bigint,
      last_seen bigint)
    on conflict (station_id) do update set
      transmissions = ott_stations.transmissions + excluded.transmissions,
      alarms = ott_stations.alarms + excluded.alarms,
      last_seen = greatest(ott_stations.last_seen, excluded.last_seen)`;
}

class PostgresOttStore implements OttStore {
  readonly #sql: postgres.Sql;
  readonly #queue: GroupCommitQueue<OttRecord>;

  constructor(sql: postgres.Sql, queue: GroupCommitQueue<OttRecord>) {
    this.#sql = sql;
    this.#queue = queue;
  }

  record(record: OttRecord): Promise<void> {
    return this.#queue.enqueue(record);
  }

  values(filter: OttValueFilter): AsyncIterable<StoredOttValue> {
    return pagedValues(filter, (after, limit) => this.#valuePage(filter, after, limit));
  }

  async stations(): Promise<StationSummary[]> {
    const rows = await this.#sql`
      select station_id, transmissions, alarms, last_seen from ott_stations order by last_seen desc, station_id`;
    return rows.map((row) => ({
      stationId: row.station_id,
      transmissions: Number(row.transmissions),
      alarms: Number(row.alarms),
      lastSeen: row.last_seen,
    }));
  }

  async recentAlarms(limit: number): Promise<StoredOttAlarm[]> {
    checkLimit(limit);
    const rows = await this.#sql`
      select station_id, channel_id, t, type, message, received_at, file
      from ott_alarms order by received_at desc, id desc limit ${limit}`;
    return rows.map((row) => ({
      stationId: row.station_id,
      channelId: row.channel_id,
      time: row.t,
      type: row.type,
      message: row.message,
      receivedAt: row.received_at,
      file: row.file,
    }));
  }

  async #valuePage(filter: OttValueFilter, after: ValueKey | undefined, limit: number): Promise<StoredOttValue[]> {
    const sql = this.#sql;
    const rows = await sql`
      select station_id, channel_id, t, channel_name, unit, value, raw_value, error_code, error_text, file
      from ott_values
      where true
        ${filter.stationId !== undefined ? sql`and station_id = ${filter.stationId}` : sql``}
        ${filter.channelId !== undefined ? sql`and channel_id = ${filter.channelId}` : sql``}
        ${filter.from !== undefined ? sql`and t >= ${filter.from}` : sql``}
        ${filter.to !== undefined ? sql`and t < ${filter.to}` : sql``}
        ${
      after ? sql`and (station_id, channel_id, t) > (${after.stationId}, ${after.channelId}, ${after.time})` : sql``
    }
      order by station_id, channel_id, t
      limit ${limit}`;
    return rows.map((row) => ({
      stationId: row.station_id,
      channelId: row.channel_id,
      time: row.t,
      channelName: row.channel_name,
      unit: row.unit,
      value: row.value,
      rawValue: row.raw_value,
      errorCode: row.error_code,
      errorText: row.error_text,
      file: row.file,
    }));
  }
}
