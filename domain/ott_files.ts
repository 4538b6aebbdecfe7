/**
 * Where OTT transmissions live on disk. The layout is the original receiver's
 * and a compatibility contract: downstream tools sync this tree.
 */
import type { OttAction } from "./ott.ts";

/**
 * `<action>/YYYY/MM/DD/<stationid>_<UTC time, ':' → '+', 6 fraction digits>`,
 * e.g. `senddata/2020/10/22/0000452891_2020-10-22T00+01+06.209619`.
 * `attempt` moves the time on by that many microseconds, so two posts in the
 * same microsecond get distinct names that still sort in arrival order.
 */
export function ottFileName(action: OttAction, stationId: string, receivedAtMicros: bigint, attempt = 0): string {
  return `${action}/${timestampedName(stationId, receivedAtMicros + BigInt(attempt))}`;
}

/** Bodies our parser refused, kept for a person to look at: `quarantine/<action>/YYYY/MM/DD/…`. */
export function ottQuarantineName(
  action: OttAction,
  stationId: string,
  receivedAtMicros: bigint,
  attempt = 0,
): string {
  return `quarantine/${ottFileName(action, stationId, receivedAtMicros, attempt)}`;
}

function timestampedName(stationId: string, micros: bigint): string {
  const iso = new Date(Number(micros / 1000n)).toISOString();
  const fraction = (micros % 1_000_000n).toString().padStart(6, "0");
  const day = iso.slice(0, 10).replaceAll("-", "/");
  return `${day}/${stationId}_${iso.slice(0, 19).replaceAll(":", "+")}.${fraction}`;
}
