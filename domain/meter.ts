/**
 * CC3220S meter packets (seed 004, PROTOCOLS.md §2): one JSON object per line,
 * `{"Id", "timestamp", "status", "voltage", "freq"}`. Pure: a line in, a
 * validated reading or the reason it was refused out.
 */
import type { MeterReading, StoredMeterReading } from "../storage/types.ts";
import { booleanField, integerField, numberField, parseJsonObject, unixSecondsField } from "./go_json.ts";
import { err, ok, type Result } from "./result.ts";

/** The reply after each stored packet, exactly as the reference client expects it. */
export const METER_ACK = "Thank you";

/**
 * Parses and validates one packet. `id` must be a positive integer,
 * `voltage` and `freq` finite and not negative, `status` a boolean;
 * `timestamp` (Unix seconds) absent or 0 means the receipt time.
 */
export function parseMeterPacket(line: string, receivedAt: Date): Result<MeterReading> {
  const fields = parseJsonObject(line);
  if (!fields.ok) return fields;
  const id = integerField(fields.value, "id", true);
  if (!id.ok) return id;
  if (id.value! <= 0) return err(`field "id" must be a positive pub id`);
  const createdAt = unixSecondsField(fields.value, "timestamp", receivedAt);
  if (!createdAt.ok) return createdAt;
  const status = booleanField(fields.value, "status");
  if (!status.ok) return status;
  const voltage = numberField(fields.value, "voltage");
  if (!voltage.ok) return voltage;
  if (voltage.value < 0) return err(`field "voltage" must not be negative`);
  const frequency = numberField(fields.value, "freq");
  if (!frequency.ok) return frequency;
  if (frequency.value < 0) return err(`field "freq" must not be negative`);
  return ok({
    pubId: id.value!,
    createdAt: createdAt.value,
    savedAt: receivedAt,
    voltage: voltage.value,
    frequency: frequency.value,
    protected: status.value,
  });
}

/** Columns of a stored reading in every API and feed (snake_case, like the seed's table). */
export const READING_COLUMNS = ["pub_id", "id", "created_at", "saved_at", "voltage", "frequency", "protected"] as const;

/** A stored reading as the flat record the retrieval API, CSV export and live feeds share. */
export function readingRecord(
  reading: StoredMeterReading,
): Record<(typeof READING_COLUMNS)[number], string | number | boolean> {
  return {
    pub_id: reading.pubId,
    id: reading.id,
    created_at: reading.createdAt.toISOString(),
    saved_at: reading.savedAt.toISOString(),
    voltage: reading.voltage,
    frequency: reading.frequency,
    protected: reading.protected,
  };
}
