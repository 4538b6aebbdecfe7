/**
 * SQLite meter store: readings go through their own group-commit queue to the
 * meter writer thread (one `BEGIN IMMEDIATE … COMMIT`, one WAL fsync per
 * batch, off the main thread); queries use the reader connection.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { type GroupCommitOptions, GroupCommitQueue } from "../group_commit.ts";
import {
  appendThrough,
  KnownPubs,
  type MeterAppend,
  meterCommitOptions,
  pagedReadings,
  type ReadingKey,
} from "../meter_batch.ts";
import type { MeterReading, MeterReadingFilter, MeterStore, MeterSummary, StoredMeterReading } from "../types.ts";
import type { MeterWriterThread } from "./meter_writer.ts";
import { BATCHES_IN_FLIGHT } from "./writer_thread.ts";

type Row = Record<string, SQLInputValue>;

const READING_COLUMNS = "id, pub_id, created_at, saved_at, voltage, frequency, protected";

/**
 * {@link MeterStore} on SQLite; `close()` commits what is queued and stops the
 * writer thread (the record store closes the other connections).
 */
export class SqliteMeterStore implements MeterStore {
  readonly #reader: DatabaseSync;
  readonly #known = new KnownPubs();
  readonly #queue: GroupCommitQueue<MeterAppend>;
  readonly #writer: MeterWriterThread;
  readonly #pubExists: StatementSync;
  readonly #meters: StatementSync;
  /** Reading queries differ only by which bounds are set, so four statements cover all. */
  readonly #readingQueries = new Map<string, StatementSync>();

  constructor(writer: MeterWriterThread, reader: DatabaseSync, commitOptions: GroupCommitOptions) {
    this.#reader = reader;
    this.#writer = writer;
    this.#queue = new GroupCommitQueue((items) => writer.write(items), {
      ...meterCommitOptions(commitOptions),
      maxInFlight: BATCHES_IN_FLIGHT,
    });
    this.#pubExists = reader.prepare("SELECT 1 FROM pub WHERE pub_id = ?");
    // The newest reading per pub is one backwards step on meter_readings_by_pub, not a scan.
    this.#meters = reader.prepare(`
      SELECT p.pub_id, p.device_name, p.hash, s.email AS creator, p.readings,
        r.id, r.created_at, r.saved_at, r.voltage, r.frequency, r.protected
      FROM pub p LEFT JOIN meter_readings r ON r.id = (
        SELECT m.id FROM meter_readings m WHERE m.pub_id = p.pub_id ORDER BY m.created_at DESC, m.id DESC LIMIT 1
      )
      LEFT JOIN sub s ON s.id = p.creator
      ORDER BY p.pub_id`);
  }

  pubExists(pubId: number): Promise<boolean> {
    return Promise.try(() => {
      if (this.#known.has(pubId)) return true;
      const exists = this.#pubExists.get(pubId) !== undefined;
      if (exists) this.#known.add(pubId);
      return exists;
    });
  }

  append(reading: MeterReading, options: { registerPub: boolean }): Promise<number> {
    return appendThrough(this.#queue, reading, options.registerPub);
  }

  meters(): Promise<MeterSummary[]> {
    return Promise.try(() =>
      (this.#meters.all() as Row[]).map((row) => ({
        pubId: row.pub_id as number,
        deviceName: row.device_name as string | null,
        hash: row.hash as number | null,
        creator: row.creator as string | null,
        readings: row.readings as number,
        latest: row.id === null ? null : storedReading(row),
      }))
    );
  }

  readings(pubId: number, filter: MeterReadingFilter): AsyncIterable<StoredMeterReading> {
    return pagedReadings(filter, (after, limit) => Promise.try(() => this.#readingPage(pubId, filter, after, limit)));
  }

  /** Commits the queued readings, then refuses new ones. */
  async close(): Promise<void> {
    await this.#queue.close();
    await this.#writer.close();
  }

  #readingPage(
    pubId: number,
    filter: MeterReadingFilter,
    after: ReadingKey | undefined,
    limit: number,
  ): StoredMeterReading[] {
    const conditions = ["pub_id = ?"];
    const params: SQLInputValue[] = [pubId];
    const where = (condition: string, ...values: SQLInputValue[]) => {
      conditions.push(condition);
      params.push(...values);
    };
    if (filter.from !== undefined) where("created_at >= ?", filter.from.getTime());
    if (filter.to !== undefined) where("created_at < ?", filter.to.getTime());
    if (after) where("(created_at, id) > (?, ?)", after.createdAt.getTime(), after.id);
    const sql = `
      SELECT ${READING_COLUMNS} FROM meter_readings
      WHERE ${conditions.join(" AND ")} ORDER BY created_at, id LIMIT ?`;
    let statement = this.#readingQueries.get(sql);
    if (!statement) {
      statement = this.#reader.prepare(sql);
      this.#readingQueries.set(sql, statement);
    }
    return (statement.all(...params, limit) as Row[]).map(storedReading);
  }
}

function storedReading(row: Row): StoredMeterReading {
  return {
    id: row.id as number,
    pubId: row.pub_id as number,
    createdAt: new Date(row.created_at as number),
    savedAt: new Date(row.saved_at as number),
    voltage: row.voltage as number,
    frequency: row.frequency as number,
    protected: row.protected === 1,
  };
}
