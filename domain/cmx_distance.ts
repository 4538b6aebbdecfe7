/**
 * Distance walked by one device, from CMX movement notifications: the
 * algorithm of the original Track Your Steps back end (PROTOCOLS.md §3),
 * without its double counting. Pure: state and sighting in, state and
 * metres added out.
 */

/** Metres in one foot (international foot). */
export const METRES_PER_FOOT = 0.3048;

/** Seconds assumed since the "last" sighting of a device seen for the first time (the original's default). */
export const FIRST_SIGHTING_SECONDS = 86_400;

/** A location on a floor map, in CMX's units (feet). */
export interface MapPoint {
  x: number;
  y: number;
}

/** What is remembered per device between notifications (the seed's `distance` row). */
export interface DistanceState {
  /** CMX floor id, kept as its decimal text: real ids exceed 2^53. */
  floorId: string;
  /** The older of the two previous points. */
  p1: MapPoint;
  /** The newer previous point; "unset" (x ≤ 0 and y ≤ 0) right after a floor change. */
  p2: MapPoint;
  /** Metres of the segment p1 → p2 as counted (after the cap); the seed's `distance_1to2`. */
  segmentMetres: number;
  /** Notification time of the last sighting, ms since the epoch. */
  lastSeenMs: number;
}

/** One movement notification, reduced to what the algorithm needs. */
export interface Sighting {
  floorId: string;
  point: MapPoint;
  /** CMX's `moveDistanceInFt`. */
  moveFeet: number;
  /** CMX's `timestamp`, ms since the epoch. */
  timestampMs: number;
}

/** The original's tunables (config.ini MAX_MTRS_SEC and MAX_MOVING_ANGLE). */
export interface DistanceSettings {
  /** Fastest plausible walk; a step is capped at this × seconds since the last sighting. */
  maxMetresPerSecond: number;
  /** Interior angle at the middle point, in degrees, from which on the walk counts as heading away. */
  maxMovingAngle: number;
}

/** The original's defaults. */
export const DEFAULT_DISTANCE_SETTINGS: DistanceSettings = { maxMetresPerSecond: 4.42, maxMovingAngle: 90 };

/** The state after a sighting and the metres it adds to the device's total. */
export interface DistanceStep {
  state: DistanceState;
  addedMetres: number;
}

const UNSET: MapPoint = { x: 0, y: 0 };

/** True for the original's "origin" point: x ≤ 0 and y ≤ 0. */
export function isUnset(point: MapPoint): boolean {
  return point.x <= 0 && point.y <= 0;
}

/**
 * Interior angle at `p2` of the triangle p1-p2-p3, in degrees (law of
 * cosines on the three side lengths). 0 when p1 = p2 or p2 = p3: no
 * direction, so never "heading away". A straight walk gives 180°, a U-turn ~0°.
 */
export function angleAt(p1: MapPoint, p2: MapPoint, p3: MapPoint): number {
  const a = Math.hypot(p2.x - p1.x, p2.y - p1.y);
  const b = Math.hypot(p3.x - p2.x, p3.y - p2.y);
  if (a === 0 || b === 0) return 0;
  const c = Math.hypot(p3.x - p1.x, p3.y - p1.y);
  // Rounding can push the cosine a hair outside [-1, 1] on straight lines.
  const cosine = Math.min(1, Math.max(-1, (a * a + b * b - c * c) / (2 * a * b)));
  return Math.acos(cosine) * 180 / Math.PI;
}

/**
 * Applies one sighting to a device's state (null: never seen).
 *
 * - A sighting not newer than the last one (a re-sent or late notification)
 *   changes nothing and adds nothing.
 * - The step is `moveFeet` in metres, capped at `maxMetresPerSecond` × seconds
 *   since the last sighting (86,400 s for a first sighting).
 * - First sighting or floor change: remember the point, add nothing.
 * - Same floor, newer previous point unset: remember the point as p2, add nothing.
 * - Otherwise shift the points; add the capped step only when heading away
 *   (angle at p2 ≥ `maxMovingAngle`). The original also re-added the previous
 *   segment, counting every segment of a straight walk twice; that is not copied.
 */
export function advance(state: DistanceState | null, sighting: Sighting, settings: DistanceSettings): DistanceStep {
  // A re-sent or late notification says nothing new about the walk; letting it move the points would make p1 = p2
  // (or rewind them) and drop the next real step.
  if (state !== null && sighting.timestampMs <= state.lastSeenMs) return { state, addedMetres: 0 };
  const seconds = state === null ? FIRST_SIGHTING_SECONDS : (sighting.timestampMs - state.lastSeenMs) / 1000;
  const metres = Math.min(sighting.moveFeet * METRES_PER_FOOT, seconds * settings.maxMetresPerSecond);
  const lastSeenMs = sighting.timestampMs;
  const next = (p1: MapPoint, p2: MapPoint, segmentMetres: number): DistanceState => ({
    floorId: sighting.floorId,
    p1,
    p2,
    segmentMetres,
    lastSeenMs,
  });
  if (state === null || state.floorId !== sighting.floorId) {
    return { state: next(sighting.point, UNSET, 0), addedMetres: 0 };
  }
  if (isUnset(state.p2)) {
    return { state: next(state.p1, sighting.point, metres), addedMetres: 0 };
  }
  const headingAway = angleAt(state.p1, state.p2, sighting.point) >= settings.maxMovingAngle;
  return { state: next(state.p2, sighting.point, metres), addedMetres: headingAway ? metres : 0 };
}
