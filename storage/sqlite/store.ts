/**
 * SQLite record store (the embedded default), on `node:sqlite`.
 *
 * One connection writes, through the group-commit queue: each batch is one
 * `BEGIN IMMEDIATE … COMMIT` and so one WAL fsync. Meter readings and OTT
 * rows, the busiest streams, are written the same way by worker threads on
 * connections of their own. Another connection serves queries; in WAL mode
 * readers and the writers never block each other.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { resolve } from "node:path";
import { type GroupCommitOptions, GroupCommitQueue } from "../group_commit.ts";
import { checkLimit, pagedValues, type ValueKey } from "../ott_batch.ts";
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
import { SqliteAccountStore } from "./account_store.ts";
import { SqliteCmxStore } from "./cmx_store.ts";
import { SqliteConfoStore } from "./confo_store.ts";
import { SqliteDropoffStore } from "./dropoff_store.ts";
import { DURABLE_COMMITS, openConnection } from "./connection.ts";
import { SqliteMeterStore } from "./meter_store.ts";
import { MeterWriterThread } from "./meter_writer.ts";
import { OttWriterThread } from "./ott_writer.ts";
import { migrate } from "./migrations.ts";

/** Opens (creating and migrating if needed) the SQLite database at `path`. */
export function openSqliteStore(path: string, commitOptions: GroupCommitOptions): Promise<RecordStore> {
  return Promise.try(() => openConnections(resolve(path), commitOptions));
}

function openConnections(location: string, commitOptions: GroupCommitOptions): RecordStore {
  let writer: DatabaseSync | undefined;
  let reader: DatabaseSync | undefined;
  try {
    writer = openConnection(location);
    // WAL lets the reader work during commits.
    const { journal_mode: mode } = writer.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
    if (mode !== "wal") {
      throw new Error(`write-ahead logging unavailable (journal_mode stayed ${mode}); use a local filesystem`);
    }
    writer.exec(DURABLE_COMMITS);
    migrate(writer);
    reader = openConnection(location);
    reader.exec("PRAGMA query_only = ON");
    const meterWriter = new MeterWriterThread(location);
    const ottWriter = new OttWriterThread(location);
    return new SqliteRecordStore(location, { writer, reader, meterWriter, ottWriter }, commitOptions);
  } catch (error) {
    reader?.close();
    writer?.close();
    throw new Error(`cannot open SQLite database ${location}: ${(error as Error).message}`, { cause: error });
  }
}

class SqliteRecordStore implements RecordStore {
  readonly backend = "sqlite";
  readonly location: string;
  readonly ott: OttStore;
  readonly meters: MeterStore;
  readonly confo: ConfoStore;
  readonly cmx: CmxStore;
  readonly dropoff: DropoffStore;
  readonly accounts: AccountStore;
  readonly #writer: DatabaseSync;
  readonly #reader: DatabaseSync;
  readonly #queue: GroupCommitQueue<OttRecord>;
  readonly #ottWriter: OttWriterThread;
  readonly #meters: SqliteMeterStore;
  readonly #cmx: SqliteCmxStore;
  #closed = false;

  constructor(location: string, connections: Connections, commitOptions: GroupCommitOptions) {
    const { writer, reader, meterWriter, ottWriter } = connections;
    this.location = location;
    this.#writer = writer;
    this.#reader = reader;
    this.#ottWriter = ottWriter;
    this.#queue = new GroupCommitQueue((records) => ottWriter.write(records), commitOptions);
    this.ott = new SqliteOttStore(this.#queue, reader);
    // Readings get their own queue: a burst of readings never waits behind OTT batches, and each
    // batch stays one simple kind of transaction. Their writer is a thread of its own (see meter_writer.ts).
    this.meters = this.#meters = new SqliteMeterStore(meterWriter, reader, commitOptions);
    this.confo = new SqliteConfoStore(writer, reader);
    this.dropoff = new SqliteDropoffStore(writer, reader);
    this.accounts = new SqliteAccountStore(writer, reader);
    // CMX posts get their own queue too: notification bursts never wait behind other protocols' batches.
    this.cmx = this.#cmx = new SqliteCmxStore(writer, reader, commitOptions);
  }

  ping(): Promise<void> {
    return Promise.try(() => {
      this.#reader.prepare("SELECT 1").get();
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.#queue.close(), this.#meters.close(), this.#cmx.close()]);
    if (this.#closed) return;
    this.#closed = true;
    await this.#ottWriter.close();
    this.#reader.close();
    this.#writer.close();
  }
}

/** The connections and writer threads one store owns. */
interface Connections {
  writer: DatabaseSync;
  reader: DatabaseSync;
  meterWriter: MeterWriterThread;
  ottWriter: OttWriterThread;
}

type Row = Record<string, SQLInputValue>;

class SqliteOttStore implements OttStore {
  readonly #queue: GroupCommitQueue<OttRecord>;
  readonly #reader: DatabaseSync;
  /** Value queries differ only by which filters are set, so a handful of statements cover all. */
  readonly #valueQueries = new Map<string, StatementSync>();
  readonly #stations: StatementSync;
  readonly #recentAlarms: StatementSync;

  constructor(queue: GroupCommitQueue<OttRecord>, reader: DatabaseSync) {
    this.#queue = queue;
    this.#reader = reader;
    this.#stations = reader.prepare(`
      SELECT station_id, transmissions, alarms, last_seen FROM ott_stations ORDER BY last_seen DESC, station_id`);
    this.#recentAlarms = reader.prepare(`
      SELECT station_id, channel_id, t, type, message, received_at, file
      FROM ott_alarms ORDER BY received_at DESC, id DESC LIMIT ?`);
  }

  record(record: OttRecord): Promise<void> {
    return this.#queue.enqueue(record);
  }

  values(filter: OttValueFilter): AsyncIterable<StoredOttValue> {
    return pagedValues(filter, (after, limit) => Promise.try(() => this.#valuePage(filter, after, limit)));
  }

  stations(): Promise<StationSummary[]> {
    return Promise.try(() =>
      (this.#stations.all() as Row[]).map((row) => ({
        stationId: row.station_id as string,
        transmissions: row.transmissions as number,
        alarms: row.alarms as number,
        lastSeen: new Date(row.last_seen as number),
      }))
    );
  }

  recentAlarms(limit: number): Promise<StoredOttAlarm[]> {
    return Promise.try(() => {
      checkLimit(limit);
      return (this.#recentAlarms.all(limit) as Row[]).map((row) => ({
        stationId: row.station_id as string,
        channelId: row.channel_id as string,
        time: row.t === null ? null : new Date(row.t as number),
        type: row.type as string,
        message: row.message as string,
        receivedAt: new Date(row.received_at as number),
        file: row.file as string,
      }));
    });
  }

  #valuePage(filter: OttValueFilter, after: ValueKey | undefined, limit: number): StoredOttValue[] {
    const conditions: string[] = [];
    const params: SQLInputValue[] = [];
    const where = (condition: string, ...values: SQLInputValue[]) => {
      conditions.push(condition);
      params.push(...values);
    };
    if (filter.stationId !== undefined) where("station_id = ?", filter.stationId);
    if (filter.channelId !== undefined) where("channel_id = ?", filter.channelId);
    if (filter.from !== undefined) where("t >= ?", filter.from.getTime());
    if (filter.to !== undefined) where("t < ?", filter.to.getTime());
    if (after) where("(station_id, channel_id, t) > (?, ?, ?)", after.stationId, after.channelId, after.time.getTime());
    const sql = `
      SELECT station_id, channel_id, t, channel_name, unit, value, raw_value, error_code, error_text, file
      FROM ott_values ${conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : ""}
      ORDER BY station_id, channel_id, t LIMIT ?`;
    let statement = this.#valueQueries.get(sql);
    if (!statement) {
      statement = this.#reader.prepare(sql);
      this.#valueQueries.set(sql, statement);
    }
    return (statement.all(...params, limit) as Row[]).map((row) => ({
      stationId: row.station_id as string,
      channelId: row.channel_id as string,
      time: new Date(row.t as number),
      channelName: row.channel_name as string,
      unit: row.unit as string,
      value: row.value as number | null,
      rawValue: row.raw_value as string,
      errorCode: row.error_code as string | null,
      errorText: row.error_text as string | null,
      file: row.file as string,
    }));
  }
}
