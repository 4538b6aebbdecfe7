import assert from "node:assert/strict";
import {
  advance,
  angleAt,
  DEFAULT_DISTANCE_SETTINGS,
  type DistanceState,
  type MapPoint,
  METRES_PER_FOOT,
  type Sighting,
} from "../../domain/cmx_distance.ts";

const T0 = Date.UTC(2024, 5, 10, 16, 0, 0);
const FLOOR = "723413320329068590";

function state(p1: MapPoint, p2: MapPoint, overrides: Partial<DistanceState> = {}): DistanceState {
  return { floorId: FLOOR, p1, p2, segmentMetres: 10, lastSeenMs: T0, ...overrides };
}

function sighting(point: MapPoint, moveFeet: number, seconds: number, floorId = FLOOR): Sighting {
  return { floorId, point, moveFeet, timestampMs: T0 + seconds * 1000 };
}

const ft = (feet: number) => feet * METRES_PER_FOOT;

Deno.test("angleAt: straight line 180°, right angle 90°, U-turn 0°, coincident points 0°", () => {
  const cases: [MapPoint, MapPoint, MapPoint, number][] = [
    [{ x: 10, y: 10 }, { x: 20, y: 10 }, { x: 30, y: 10 }, 180],
    [{ x: 10, y: 10 }, { x: 20, y: 10 }, { x: 20, y: 30 }, 90],
    [{ x: 10, y: 10 }, { x: 20, y: 10 }, { x: 10, y: 10 }, 0],
    [{ x: 10, y: 10 }, { x: 20, y: 10 }, { x: 20, y: 10 }, 0],
    [{ x: 20, y: 10 }, { x: 20, y: 10 }, { x: 30, y: 10 }, 0],
  ];
  for (const [p1, p2, p3, expected] of cases) {
    assert.ok(Math.abs(angleAt(p1, p2, p3) - expected) < 1e-9, `${JSON.stringify([p1, p2, p3])}`);
  }
});

Deno.test("advance: table of the original's cases, without its double counting", () => {
  const a = { x: 100, y: 100 }, b = { x: 150, y: 100 }, c = { x: 200, y: 100 };
  const cases: {
    name: string;
    before: DistanceState | null;
    sighting: Sighting;
    added: number;
    after: Pick<DistanceState, "p1" | "p2" | "floorId"> & { segmentMetres?: number };
  }[] = [
    {
      name: "first sighting: remember the point, add nothing",
      before: null,
      sighting: sighting(a, 50, 0),
      added: 0,
      after: { floorId: FLOOR, p1: a, p2: { x: 0, y: 0 }, segmentMetres: 0 },
    },
    {
      name: "floor change: reset the points, add nothing",
      before: state(a, b),
      sighting: sighting(c, 50, 30, "42"),
      added: 0,
      after: { floorId: "42", p1: c, p2: { x: 0, y: 0 }, segmentMetres: 0 },
    },
    {
      name: "same floor, one previous point: it becomes p2, add nothing",
      before: state(a, { x: 0, y: 0 }),
      sighting: sighting(b, 50, 30),
      added: 0,
      after: { floorId: FLOOR, p1: a, p2: b, segmentMetres: ft(50) },
    },
    {
      name: "a point with x ≤ 0 and y ≤ 0 counts as unset",
      before: state(a, { x: -3, y: 0 }),
      sighting: sighting(b, 50, 30),
      added: 0,
      after: { floorId: FLOOR, p1: a, p2: b },
    },
    {
      name: "straight walk (180°): add this segment only",
      before: state(a, b),
      sighting: sighting(c, 50, 30),
      added: ft(50),
      after: { floorId: FLOOR, p1: b, p2: c, segmentMetres: ft(50) },
    },
    {
      name: "exactly MAX_MOVING_ANGLE (90°) counts as heading away",
      before: state(a, b),
      sighting: sighting({ x: 150, y: 150 }, 50, 30),
      added: ft(50),
      after: { floorId: FLOOR, p1: b, p2: { x: 150, y: 150 } },
    },
    {
      name: "circling (60° turn): only the points move",
      before: state(a, b),
      sighting: sighting({ x: 125, y: 100 + 25 * Math.sqrt(3) }, 50, 30),
      added: 0,
      after: { floorId: FLOOR, p1: b, p2: { x: 125, y: 100 + 25 * Math.sqrt(3) }, segmentMetres: ft(50) },
    },
    {
      name: "U-turn back to p1: nothing added",
      before: state(a, b),
      sighting: sighting(a, 50, 30),
      added: 0,
      after: { floorId: FLOOR, p1: b, p2: a },
    },
    {
      name: "standing still (p2 = p3): angle 0, nothing added",
      before: state(a, b),
      sighting: sighting(b, 50, 30),
      added: 0,
      after: { floorId: FLOOR, p1: b, p2: b },
    },
    {
      name: "p1 = p2: angle 0, nothing added",
      before: state(b, b),
      sighting: sighting(c, 50, 30),
      added: 0,
      after: { floorId: FLOOR, p1: b, p2: c },
    },
    {
      name: "cap: 100 ft in 5 s is more than 4.42 m/s, so 22.1 m",
      before: state(a, b),
      sighting: sighting(c, 100, 5),
      added: 5 * 4.42,
      after: { floorId: FLOOR, p1: b, p2: c, segmentMetres: 5 * 4.42 },
    },
    {
      name: "a notification older than the last sighting changes nothing",
      before: state(a, b),
      sighting: sighting(c, 50, -10),
      added: 0,
      after: { floorId: FLOOR, p1: a, p2: b, segmentMetres: 10 },
    },
    {
      name: "a re-sent notification (same time) changes nothing",
      before: state(a, b),
      sighting: sighting(c, 50, 0),
      added: 0,
      after: { floorId: FLOOR, p1: a, p2: b, segmentMetres: 10 },
    },
  ];
  for (const { name, before, sighting: s, added, after } of cases) {
    const step = advance(before, s, DEFAULT_DISTANCE_SETTINGS);
    assert.ok(Math.abs(step.addedMetres - added) < 1e-9, `${name}: added ${step.addedMetres}, expected ${added}`);
    assert.deepEqual(step.state.p1, after.p1, name);
    assert.deepEqual(step.state.p2, after.p2, name);
    assert.equal(step.state.floorId, after.floorId, name);
    if (after.segmentMetres !== undefined) {
      assert.ok(Math.abs(step.state.segmentMetres - after.segmentMetres) < 1e-9, `${name}: segment`);
    }
    assert.equal(step.state.lastSeenMs, Math.max(before?.lastSeenMs ?? -Infinity, s.timestampMs), name);
  }
});

Deno.test("advance: a straight walk of five sightings counts each counted segment once", () => {
  let current: DistanceState | null = null;
  let total = 0;
  for (let i = 0; i < 5; i++) {
    const step = advance(current, sighting({ x: 100 + 50 * i, y: 100 }, 50, 60 * i), DEFAULT_DISTANCE_SETTINGS);
    current = step.state;
    total += step.addedMetres;
  }
  // Sightings 1 and 2 only place the points; 3, 4 and 5 each add their own 50 ft.
  assert.ok(Math.abs(total - 3 * ft(50)) < 1e-9, `total ${total}`);
});

Deno.test("advance: a re-sent notification in a straight walk loses no step", () => {
  let current: DistanceState | null = null;
  let total = 0;
  const seconds = [0, 60, 120, 120, 180, 240];
  const xs = [100, 200, 300, 300, 400, 500];
  for (let i = 0; i < seconds.length; i++) {
    const step = advance(current, sighting({ x: xs[i], y: 100 }, 100, seconds[i]), DEFAULT_DISTANCE_SETTINGS);
    current = step.state;
    total += step.addedMetres;
  }
  assert.ok(Math.abs(total - 3 * ft(100)) < 1e-9, `total ${total}, expected three 100 ft steps`);
});

Deno.test("advance: settings are honoured (angle threshold and speed cap)", () => {
  const before = state({ x: 100, y: 100 }, { x: 150, y: 100 });
  const slightTurn = sighting({ x: 200, y: 110 }, 50, 10); // 168.7° at p2
  const strictAngle = advance(before, slightTurn, { maxMetresPerSecond: 1, maxMovingAngle: 170 });
  assert.equal(strictAngle.addedMetres, 0);
  const slow = advance(before, slightTurn, { maxMetresPerSecond: 1, maxMovingAngle: 90 });
  assert.equal(slow.addedMetres, 10, "capped at 1 m/s × 10 s");
});
