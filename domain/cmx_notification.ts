/**
 * CMX notification bodies (PROTOCOLS.md §3): `{"notifications": [...]}`
 * posted to `/notification` (movement) and `/notification/area` (zones).
 * Every entry is checked on its own, so a batch with a few bad entries still
 * yields the good ones, and each refusal names its entry and field.
 */
import type { Sighting } from "./cmx_distance.ts";
import { normalizeMac } from "./cmx_mac.ts";
import { err, ok, type Result } from "./result.ts";

/** A valid movement notification. */
export interface CmxMovement extends Sighting {
  /** The device MAC (or CMX's hashed MAC), lower case with colons. */
  mac: string;
}

/** A valid area (zone) notification. */
export interface CmxZoneSighting {
  /** CMX's `locationMapHierarchy`, e.g. `Venue>Hall A>Level 1`. */
  zone: string;
  timestampMs: number;
}

/** One entry the batch could not use: its index in `notifications` and why. */
export interface RejectedEntry {
  index: number;
  error: string;
}

/** The entries of one post: the good ones and the refused ones. */
export interface ParsedBatch<T> {
  accepted: T[];
  rejected: RejectedEntry[];
}

const MAX_ZONE_LENGTH = 512;
/** Floor ids are int64 on CMX; the decimal text is kept exactly (see {@link parseNotifications}). */
const FLOOR_ID = /^-?\d{1,19}$/;

/**
 * Parses a movement batch. The body must be a JSON object with a
 * `notifications` array; `receivedAt` stands in for a missing `timestamp`.
 */
export function parseMovementBatch(body: string, receivedAt: Date): Result<ParsedBatch<CmxMovement>> {
  return parseBatch(body, (entry) => parseMovement(entry, receivedAt));
}

/** Parses an area (zone) batch; see {@link parseMovementBatch}. */
export function parseZoneBatch(body: string, receivedAt: Date): Result<ParsedBatch<CmxZoneSighting>> {
  return parseBatch(body, (entry) => parseZone(entry, receivedAt));
}

function parseBatch<T>(
  body: string,
  parseEntry: (entry: Record<string, unknown>) => Result<T>,
): Result<ParsedBatch<T>> {
  const parsed = parseNotifications(body);
  if (!parsed.ok) return parsed;
  const batch: ParsedBatch<T> = { accepted: [], rejected: [] };
  parsed.value.forEach((entry, index) => {
    const result = typeof entry === "object" && entry !== null && !Array.isArray(entry)
      ? parseEntry(entry as Record<string, unknown>)
      : err("not a JSON object");
    if (result.ok) batch.accepted.push(result.value);
    else batch.rejected.push({ index, error: result.error });
  });
  return ok(batch);
}

/**
 * The `notifications` array. `floorId` values are taken as their source
 * text: CMX floor ids (e.g. 723413320329068590) exceed 2^53 and would
 * collide as JavaScript numbers.
 */
function parseNotifications(body: string): Result<unknown[]> {
  let value: unknown;
  try {
    value = JSON.parse(
      body,
      (key, field, context?: { source?: string }) =>
        key === "floorId" && typeof field === "number" && context?.source !== undefined ? context.source : field,
    );
  } catch (error) {
    return err(`body is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return err("body is not a JSON object");
  const notifications = (value as Record<string, unknown>).notifications;
  if (!Array.isArray(notifications)) return err('body has no "notifications" array');
  return ok(notifications);
}

function parseMovement(entry: Record<string, unknown>, receivedAt: Date): Result<CmxMovement> {
  const type = entry.notificationType;
  if (type !== undefined && type !== "movement") return err(`notificationType ${JSON.stringify(type)} is not movement`);
  const mac = typeof entry.deviceId === "string" ? normalizeMac(entry.deviceId) : null;
  if (mac === null) return err('"deviceId" must be a MAC address');
  const feet = entry.moveDistanceInFt;
  if (typeof feet !== "number" || !Number.isFinite(feet) || feet < 0) {
    return err('"moveDistanceInFt" must be a number of at least 0');
  }
  const coordinate = entry.locationCoordinate as Record<string, unknown> | undefined;
  const x = coordinate?.x;
  const y = coordinate?.y;
  if (typeof x !== "number" || !Number.isFinite(x) || typeof y !== "number" || !Number.isFinite(y)) {
    return err('"locationCoordinate" must hold numbers x and y');
  }
  const floorId = typeof entry.floorId === "string" ? entry.floorId.trim() : "";
  if (!FLOOR_ID.test(floorId)) return err('"floorId" must be an integer');
  const timestampMs = timestampField(entry, receivedAt);
  if (!timestampMs.ok) return timestampMs;
  return ok({
    mac,
    moveFeet: feet,
    point: { x, y },
    floorId: BigInt(floorId).toString(),
    timestampMs: timestampMs.value,
  });
}

function parseZone(entry: Record<string, unknown>, receivedAt: Date): Result<CmxZoneSighting> {
  const zone = entry.locationMapHierarchy;
  if (typeof zone !== "string" || zone.trim() === "") return err('"locationMapHierarchy" must be a non-empty string');
  if (zone.length > MAX_ZONE_LENGTH) return err(`"locationMapHierarchy" is longer than ${MAX_ZONE_LENGTH} characters`);
  const timestampMs = timestampField(entry, receivedAt);
  if (!timestampMs.ok) return timestampMs;
  return ok({ zone, timestampMs: timestampMs.value });
}

/** CMX's `timestamp` in ms; absent means the receipt time. */
function timestampField(entry: Record<string, unknown>, receivedAt: Date): Result<number> {
  const value = entry.timestamp;
  if (value === undefined || value === null) return ok(receivedAt.getTime());
  // Between 2000 and 9999: a seconds value or garbage would otherwise silently land in 1970.
  if (typeof value !== "number" || !Number.isInteger(value) || value < 946_684_800_000 || value > 253_402_300_799_999) {
    return err('"timestamp" must be milliseconds since the epoch');
  }
  return ok(value);
}
