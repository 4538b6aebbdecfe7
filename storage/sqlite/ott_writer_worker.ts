/**
 * The SQLite OTT writer thread (started by ott_writer.ts): commits the rows of
 * OTT batches on a connection of its own, so their INSERTs and the fsync of
 * each COMMIT happen off the thread that serves the loggers. An answer is
 * posted only after COMMIT returned, with `synchronous = FULL`: durable before
 * the main thread sends any `<Response>`.
 */
import type { DatabaseSync } from "node:sqlite";
import { immediateTransaction } from "./migrations.ts";
import { type OttWriterRequest, type PackedOttRows, VALUE_FIELDS } from "./ott_writer.ts";
import { serveWriterRequests } from "./writer_worker.ts";

serveWriterRequests("OTT writer", (db) => {
  const writeRows = ottRowsWriter(db);
  return (request: Extract<OttWriterRequest, { kind: "write" }>) => {
    writeRows(request.rows);
    return { answer: {} };
  };
});

/**
 * Values upserted by one statement: each call into SQLite costs about as much as inserting a row, so a
 * transmission's hundreds of values go in a few calls (35 % less time per row, measured on 165-value posts).
 * No batch holds one key twice (ottBatchRows), so no statement updates a row it inserted.
 */
const VALUES_PER_STATEMENT = 50;
/** One value's placeholders, as many as PackedOttRows carries per value. */
const VALUE_PLACEHOLDERS = `(${Array(VALUE_FIELDS).fill("?").join(", ")})`;

/** Prepares the write statements once and returns the function that commits one batch's rows. */
function ottRowsWriter(db: DatabaseSync): (rows: PackedOttRows) => void {
  const insertTransmission = db.prepare(`
    INSERT INTO ott_transmissions (station_id, action, received_at, file, bytes, user_name, remote_addr, parse_error)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const upsertValues = (count: number) =>
    db.prepare(`
    INSERT INTO ott_values (station_id, channel_id, t, channel_name, unit, value, raw_value, error_code, error_text, file)
    VALUES ${Array(count).fill(VALUE_PLACEHOLDERS).join(", ")}
    ON CONFLICT (station_id, channel_id, t) DO UPDATE SET
      channel_name = excluded.channel_name, unit = excluded.unit, value = excluded.value,
      raw_value = excluded.raw_value, error_code = excluded.error_code, error_text = excluded.error_text,
      file = excluded.file`);
  const upsertValue = upsertValues(1);
  const upsertValueChunk = upsertValues(VALUES_PER_STATEMENT);
  const insertAlarm = db.prepare(`
    INSERT INTO ott_alarms (station_id, channel_id, t, type, message, received_at, file)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const countStation = db.prepare(`
    INSERT INTO ott_stations (station_id, transmissions, alarms, last_seen) VALUES (?, ?, ?, ?)
    ON CONFLICT (station_id) DO UPDATE SET
      transmissions = transmissions + excluded.transmissions,
      alarms = alarms + excluded.alarms,
      last_seen = max(last_seen, excluded.last_seen)`);

  return (rows) => {
    immediateTransaction(db, () => {
      for (const t of rows.transmissions) {
        insertTransmission.run(
          t.stationId,
          t.action,
          t.receivedAt.getTime(),
          t.file,
          t.bytes,
          t.user,
          t.remoteAddr,
          t.parseError,
        );
      }
      const v = rows.values;
      const chunk = VALUE_FIELDS * VALUES_PER_STATEMENT;
      let i = 0;
      for (; i + chunk <= v.length; i += chunk) upsertValueChunk.run(...v.slice(i, i + chunk));
      for (; i < v.length; i += VALUE_FIELDS) upsertValue.run(...v.slice(i, i + VALUE_FIELDS));
      for (const a of rows.alarms) {
        insertAlarm.run(
          a.stationId,
          a.channelId,
          a.time?.getTime() ?? null,
          a.type,
          a.message,
          a.receivedAt.getTime(),
          a.file,
        );
      }
      for (const s of rows.stations) {
        countStation.run(s.stationId, s.transmissions, s.alarms, s.lastSeen.getTime());
      }
    });
  };
}
