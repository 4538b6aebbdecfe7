/**
 * Reading device JSON the way the devices' Go peers do: object keys match
 * case-insensitively (real meters send `"Id"`), the last duplicate wins, and
 * unknown keys are ignored. Every check names the field it refuses.
 */
import { err, ok, type Result } from "./result.ts";

/** The fields of one JSON object, by lower-cased key. */
export type JsonFields = ReadonlyMap<string, unknown>;

/** Parses one line holding a JSON object. */
export function parseJsonObject(line: string): Result<JsonFields> {
  if (line.includes("\uFFFD")) return err("invalid JSON: not valid UTF-8");
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return err(`invalid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return err("invalid JSON: expected an object");
  }
  // A Map, not an object, so keys like "__proto__" are plain data. A plain loop: this runs for every meter
  // packet, and Object.entries' pair arrays were a visible share of the garbage collector's work.
  const fields = new Map<string, unknown>();
  for (const key of Object.keys(value)) fields.set(key.toLowerCase(), (value as Record<string, unknown>)[key]);
  return ok(fields);
}

/** A required or optional int64 that JavaScript can hold exactly (|n| ≤ 2^53 − 1). */
export function integerField(fields: JsonFields, name: string, required: boolean): Result<number | undefined> {
  const value = fields.get(name.toLowerCase());
  if (value === undefined || value === null) return required ? err(`missing field "${name}"`) : ok(undefined);
  if (typeof value !== "number" || !Number.isInteger(value)) return err(`field "${name}" must be an integer`);
  if (!Number.isSafeInteger(value)) return err(`field "${name}" is out of range`);
  return ok(value);
}

/** A required finite number. */
export function numberField(fields: JsonFields, name: string): Result<number> {
  const value = fields.get(name.toLowerCase());
  if (value === undefined || value === null) return err(`missing field "${name}"`);
  if (typeof value !== "number" || !Number.isFinite(value)) return err(`field "${name}" must be a finite number`);
  return ok(value);
}

/** A required boolean. */
export function booleanField(fields: JsonFields, name: string): Result<boolean> {
  const value = fields.get(name.toLowerCase());
  if (value === undefined || value === null) return err(`missing field "${name}"`);
  if (typeof value !== "boolean") return err(`field "${name}" must be true or false`);
  return ok(value);
}

/** A string of at most `maxLength` characters; empty counts as missing when required. */
export function stringField(
  fields: JsonFields,
  name: string,
  options: { required: boolean; maxLength: number },
): Result<string | undefined> {
  const value = fields.get(name.toLowerCase());
  if (value === undefined || value === null || value === "") {
    return options.required ? err(`missing field "${name}"`) : ok(undefined);
  }
  if (typeof value !== "string") return err(`field "${name}" must be a string`);
  if (value.length > options.maxLength) return err(`field "${name}" is longer than ${options.maxLength} characters`);
  return ok(value);
}

const LATEST_UNIX_SECONDS = 253_402_300_799; // 9999-12-31T23:59:59Z

/** A Unix-seconds `timestamp`; absent or 0 means "now" (the receipt time), as in the original. */
export function unixSecondsField(fields: JsonFields, name: string, receivedAt: Date): Result<Date> {
  const seconds = integerField(fields, name, false);
  if (!seconds.ok) return seconds;
  if (seconds.value === undefined || seconds.value === 0) return ok(receivedAt);
  if (seconds.value < 0 || seconds.value > LATEST_UNIX_SECONDS) {
    return err(`field "${name}" is not a Unix time in seconds`);
  }
  return ok(new Date(seconds.value * 1000));
}
