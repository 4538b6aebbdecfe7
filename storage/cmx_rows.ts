/**
 * Row shapes shared by the CMX adapters: the distance state as both
 * databases return it, and places on the leader board.
 */
import type { DistanceState } from "../domain/cmx_distance.ts";

/** The state columns of `cmx_distance` a batch reads; PostgreSQL returns bigint as a string. */
export interface DistanceRow {
  mac: string;
  floor_id: string | null;
  p1x: number | null;
  p1y: number | null;
  p2x: number | null;
  p2y: number | null;
  segment_metres: number | null;
  last_seen: number | string | null;
  /** The device's total so far, and whether a user registered it (SQLite answers 0 or 1). */
  metres: number;
  registered: boolean | number;
}

/** The committed state of each device, by MAC; null for a device registered but never sighted. */
export function distanceStates(rows: Iterable<DistanceRow>): Map<string, DistanceState | null> {
  const states = new Map<string, DistanceState | null>();
  for (const row of rows) {
    states.set(
      row.mac,
      row.floor_id === null ? null : {
        floorId: row.floor_id,
        p1: { x: row.p1x!, y: row.p1y! },
        p2: { x: row.p2x!, y: row.p2y! },
        segmentMetres: row.segment_metres!,
        lastSeenMs: Number(row.last_seen),
      },
    );
  }
  return states;
}

/**
 * Places for rows sorted by metres, farthest first: equal distances share a
 * place, and the next distance takes its position (1, 2, 2, 4), as SQL `rank()`.
 */
export function rankLeaders(rows: readonly { username: string; metres: number }[]) {
  return rows.map((row, index) => {
    let first = index;
    while (first > 0 && rows[first - 1].metres === row.metres) first--;
    return { place: first + 1, username: row.username, metres: row.metres };
  });
}
