/**
 * PostgreSQL meter store. Each group-commit batch is one statement, committed
 * on its own (inside a transaction only when pubs that may not be registered
 * must be looked up first): the pub counters (which also register new pubs)
 * and the readings, passed as arrays: six parameters however many readings,
 * so no bind-parameter limit and little parsing.
 * Array literals are built with one join: postgres.js's array serialiser
 * runs two regular-expression replaces per element.
 */
import type postgres from "postgres";
import { type GroupCommitOptions, GroupCommitQueue } from "../group_commit.ts";
import {
  appendThrough,
  KnownPubs,
  type MeterAppend,
  type MeterBatchPlan,
  meterCommitOptions,
  pagedReadings,
  planMeterBatch,
  pubsToCheck,
  type ReadingKey,
  settleMeterBatch,
} from "../meter_batch.ts";
import type { MeterReading, MeterReadingFilter, MeterStore, MeterSummary, StoredMeterReading } from "../types.ts";
import { transaction } from "./transaction.ts";

/**
 * A PostgreSQL array literal of numbers or booleans, cast by the query.
 * JavaScript's number to string conversion round-trips exactly, and
 * PostgreSQL reads `Infinity`, `NaN`, `true` and `false` as written.
 */
function arrayLiteral(values: readonly (number | boolean)[]): string {
  return `{${values.join(",")}}`;
}

/** A PostgreSQL array literal of times (ISO 8601, UTC), exact to the millisecond for a `timestamptz[]` cast. */
function timeArrayLiteral(times: readonly Date[]): string {
  return `{${times.map((time) => `"${time.toISOString()}"`).join(",")}}`;
}

/**
 * Batches committing at once. Batches are independent (each reading is its own row; see #insert for the pub
 * counters), and PostgreSQL flushes concurrent commits together: a batch no longer waits for the previous one.
 */
const BATCHES_IN_FLIGHT = 2;

/** {@link MeterStore} on PostgreSQL; `close()` commits what is queued (the record store ends the pool). */
export class PostgresMeterStore implements MeterStore {
  readonly #sql: postgres.Sql;
  readonly #known = new KnownPubs();
  readonly #queue: GroupCommitQueue<MeterAppend>;

  constructor(sql: postgres.Sql, commitOptions: GroupCommitOptions) {
    this.#sql = sql;
    this.#queue = new GroupCommitQueue((items) => this.#writeBatch(items), {
      ...meterCommitOptions(commitOptions),
      maxInFlight: BATCHES_IN_FLIGHT,
    });
  }

  async pubExists(pubId: number): Promise<boolean> {
    if (this.#known.has(pubId)) return true;
    const exists = (await this.#sql`select 1 from pub where pub_id = ${pubId}`).length > 0;
    if (exists) this.#known.add(pubId);
    return exists;
  }

  append(reading: MeterReading, options: { registerPub: boolean }): Promise<number> {
    return appendThrough(this.#queue, reading, options.registerPub);
  }

  async meters(): Promise<MeterSummary[]> {
    // The count is pub's counter and the newest reading one backwards index step per pub
    // (lateral), so the cost grows with the number of meters, not of readings.
    const rows = await this.#sql`
      select p.pub_id, p.device_name, p.hash, s.email as creator, p.readings,
        r.id, r.created_at, r.saved_at, r.voltage, r.frequency, r.protected
      from pub p left join lateral (
        select m.id, m.created_at, m.saved_at, m.voltage, m.frequency, m.protected from meter_readings m
        where m.pub_id = p.pub_id order by m.created_at desc, m.id desc limit 1
      ) r on true
      left join sub s on s.id = p.creator
      order by p.pub_id`;
    return rows.map((row) => ({
      pubId: Number(row.pub_id),
      deviceName: row.device_name,
      hash: row.hash === null ? null : Number(row.hash),
      creator: row.creator,
      readings: Number(row.readings),
      latest: row.id === null ? null : storedReading(row),
    }));
  }

  readings(pubId: number, filter: MeterReadingFilter): AsyncIterable<StoredMeterReading> {
    return pagedReadings(filter, (after, limit) => this.#readingPage(pubId, filter, after, limit));
  }

  /** Commits the queued readings, then refuses new ones. */
  close(): Promise<void> {
    return this.#queue.close();
  }

  async #writeBatch(items: MeterAppend[]): Promise<void> {
    const known = this.#known;
    const toCheck = pubsToCheck(items, known);
    if (toCheck.length === 0) {
      // Every pub is known or may be registered: one statement, committed on its own (one round trip
      // where BEGIN, the statements and COMMIT took three, each waiting for a busy database's backend).
      const plan = planMeterBatch(items, known, []);
      settleMeterBatch(plan, await this.#insert(this.#sql, plan), known);
      return;
    }
    // The pubs that may not be registered are looked up in the same transaction as the insert.
    const { plan, ids } = await transaction(this.#sql, async (tx) => {
      const existing = (await tx`select pub_id from pub where pub_id = any(${arrayLiteral(toCheck)}::bigint[])`)
        .map((row) => Number(row.pub_id));
      const plan = planMeterBatch(items, known, existing);
      return { plan, ids: await this.#insert(tx, plan) };
    });
    settleMeterBatch(plan, ids, known);
  }

  /**
   * Counts the accepted readings on their pubs (registering new ones; rows come sorted by pub id, so two
   * batches in flight wait for each other's pub rows but never deadlock) and inserts them, in one statement.
   * Resolves with their ids in the order of `plan.accepted`.
   */
  async #insert(sql: postgres.Sql | postgres.TransactionSql, plan: MeterBatchPlan): Promise<number[]> {
    if (plan.accepted.length === 0) return [];
    const readings = plan.accepted.map((item) => item.reading);
    // unnest yields the rows in array order and the identity default draws a larger value for each row in
    // turn, so the sorted ids line up with the accepted readings. One text array comes back, split in one
    // call, rather than a row object per reading. Both inserts run whether or not the select reads them.
    const [{ ids }] = await sql`
      with counted as (
        insert into pub (pub_id, readings)
        select * from unnest(${arrayLiteral(plan.counts.map((c) => c.pubId))}::bigint[],
                             ${arrayLiteral(plan.counts.map((c) => c.readings))}::bigint[])
        on conflict (pub_id) do update set readings = pub.readings + excluded.readings
      ), inserted as (
        insert into meter_readings (pub_id, created_at, saved_at, voltage, frequency, protected)
        select * from unnest(
          ${arrayLiteral(readings.map((r) => r.pubId))}::bigint[],
          ${timeArrayLiteral(readings.map((r) => r.createdAt))}::timestamptz[],
          ${timeArrayLiteral(readings.map((r) => r.savedAt))}::timestamptz[],
          ${arrayLiteral(readings.map((r) => r.voltage))}::float8[],
          ${arrayLiteral(readings.map((r) => r.frequency))}::float8[],
          ${arrayLiteral(readings.map((r) => r.protected))}::boolean[]
        )
        returning id
      )
      select array_agg(id order by id)::text as ids from inserted`;
    return (ids as string).slice(1, -1).split(",").map(Number);
  }

  async #readingPage(
    pubId: number,
    filter: MeterReadingFilter,
    after: ReadingKey | undefined,
    limit: number,
  ): Promise<StoredMeterReading[]> {
    const sql = this.#sql;
    const rows = await sql`
      select id, pub_id, created_at, saved_at, voltage, frequency, protected from meter_readings
      where pub_id = ${pubId}
        ${filter.from !== undefined ? sql`and created_at >= ${filter.from}` : sql``}
        ${filter.to !== undefined ? sql`and created_at < ${filter.to}` : sql``}
        ${after ? sql`and (created_at, id) > (${after.createdAt}, ${after.id})` : sql``}
      order by created_at, id
      limit ${limit}`;
    return rows.map(storedReading);
  }
}

function storedReading(row: postgres.Row): StoredMeterReading {
  return {
    id: Number(row.id),
    pubId: Number(row.pub_id),
    createdAt: row.created_at,
    savedAt: row.saved_at,
    voltage: row.voltage,
    frequency: row.frequency,
    protected: row.protected,
  };
}
