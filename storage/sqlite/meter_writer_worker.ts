/**
 * The SQLite meter writer thread (started by meter_writer.ts): commits meter
 * batches on a connection of its own, so their INSERTs, WAL writes and the
 * fsync of each COMMIT happen off the thread that serves the sockets. A
 * response is posted only after COMMIT returned, with `synchronous = FULL`:
 * durable before the main thread acknowledges anything.
 */
import type { DatabaseSync } from "node:sqlite";
import { KnownPubs, type MeterAppend, planMeterBatch, pubsToCheck, settleMeterBatch } from "../meter_batch.ts";
import { fromColumns, toOutcomes, type WriterRequest } from "./meter_columns.ts";
import { immediateTransaction } from "./migrations.ts";
import { serveWriterRequests } from "./writer_worker.ts";

serveWriterRequests("meter writer", (db) => {
  const writeBatch = meterBatchWriter(db, new KnownPubs());
  return (request: Extract<WriterRequest, { kind: "write" }>) => {
    const items = fromColumns(request.columns);
    writeBatch(items);
    const outcomes = toOutcomes(items);
    return { answer: { outcomes }, transfer: [outcomes.buffer as ArrayBuffer] };
  };
});

/** Prepares the write statements once and returns the function that commits one batch. */
function meterBatchWriter(db: DatabaseSync, known: KnownPubs): (items: MeterAppend[]) => void {
  const pubExists = db.prepare("SELECT 1 FROM pub WHERE pub_id = ?");
  // Registers a new pub and counts its readings in one statement.
  const countPub = db.prepare(`
    INSERT INTO pub (pub_id, created_at, readings) VALUES (?, ?, ?)
    ON CONFLICT (pub_id) DO UPDATE SET readings = readings + excluded.readings`);
  const insertReading = db.prepare(`
    INSERT INTO meter_readings (pub_id, created_at, saved_at, voltage, frequency, protected)
    VALUES (?, ?, ?, ?, ?, ?)`);

  return (items) => {
    const { plan, ids } = immediateTransaction(db, () => {
      const existing = pubsToCheck(items, known).filter((pubId) => pubExists.get(pubId) !== undefined);
      const plan = planMeterBatch(items, known, existing);
      const now = Date.now();
      for (const { pubId, readings } of plan.counts) countPub.run(pubId, now, readings);
      const ids = plan.accepted.map(({ reading: r }) =>
        Number(
          insertReading.run(
            r.pubId,
            r.createdAt.getTime(),
            r.savedAt.getTime(),
            r.voltage,
            r.frequency,
            r.protected ? 1 : 0,
          ).lastInsertRowid,
        )
      );
      return { plan, ids };
    });
    settleMeterBatch(plan, ids, known);
  };
}
