/**
 * Row shapes shared by the CMX adapters: the distance state as both
 * databases return it, and places on the leader board.
 */
import type { DistanceState } from "../domain/cmx_distance.ts";

/** The state columns of `cmx_distance`; PostgreSQL returns bigint as a string. */
export interface DistanceRow {
  mac: string;
  floor_id: string | null;
  p1x: number | null;
  p1y: number | null;
  p2x: number | null;
  p2y: number | null;
  segment_metres: number | null;
  last_seen: number | string | null;
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

/** How stale the leader board's grand total and the ranking behind places may be. */
export const TOTAL_CACHE_MS = 1000;

/**
 * A device's place among registered devices: 1 + how many walked farther.
 * `ranking` holds their metres, farthest first; a binary search replaces
 * counting thousands of index entries on every `username_data`.
 */
export function placeIn(ranking: Float64Array, metres: number): number {
  let low = 0;
  let high = ranking.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ranking[middle] > metres) low = middle + 1;
    else high = middle;
  }
  return low + 1;
}

/**
 * Memoises an expensive aggregate for `ttlMs`: the leader board's grand
 * total sums every device, and a dashboard polled by thousands of phones
 * does not need it fresher than a second.
 */
export function cachedFor<T>(ttlMs: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let value: Promise<T> | undefined;
  let loadedAt = -Infinity;
  return () => {
    if (value === undefined || now() - loadedAt >= ttlMs) {
      loadedAt = now();
      value = load();
      value.catch(() => (value = undefined));
    }
    return value;
  };
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
