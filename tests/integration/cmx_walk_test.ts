/**
 * A generated day at a venue: 1,000 devices walk (straight on, turning back,
 * circling, changing floors, the odd implausible jump) and CMX posts their
 * movements in batches; 300 of them register. Then `leaderboard` and
 * `username_data` are checked against distances computed here, independently
 * of the code under test (vector dot products instead of the law of cosines).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createTestDatabase } from "../helpers/postgres.ts";
import type { TestServer } from "../helpers/server.ts";
import { live, MAC_HASH_KEY, postNotifications, startCmxServer } from "../helpers/cmx_client.ts";

const DEVICES = 1_000;
const REGISTERED = 300;
const SLICES = 24;
const PER_POST = 50;
const DAY_START = Date.UTC(2024, 5, 10, 0, 0, 0); // venue: America/Los_Angeles, so 07:00 UTC is midnight
const FLOORS = ["723413320329068590", "723413320329068591"];

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sighting {
  mac: string;
  floor: string;
  x: number;
  y: number;
  feet: number;
  t: number;
}

const macOf = (device: number) => {
  const real = `00:${String(167772160 + device).padStart(10, "0").match(/../g)!.join(":")}`;
  const digest = createHash("sha1").update(real.replaceAll(":", "") + MAC_HASH_KEY).digest("hex");
  return `00:00:${digest.slice(32).match(/../g)!.join(":")}`;
};
const ipOf = (device: number) => `10.0.${device >> 8}.${device & 255}`;

/** Every device's sightings over the day, in time order per device. */
function generateDay(): Sighting[][] {
  const rand = random(20240610);
  return Array.from({ length: DEVICES }, (_, device) => {
    const mac = macOf(device);
    let floor = FLOORS[device % 2];
    let x = 50 + rand() * 900, y = 50 + rand() * 900, heading = rand() * 2 * Math.PI;
    const sightings: Sighting[] = [];
    for (let slice = 0; slice < SLICES; slice++) {
      const t = DAY_START + slice * 3_600_000 + Math.floor(rand() * 3_000_000);
      const roll = rand();
      if (roll < 0.05) floor = FLOORS[(FLOORS.indexOf(floor) + 1) % 2];
      else if (roll < 0.25) heading += Math.PI * (0.6 + rand() * 0.8); // turn back: circling
      else heading += (rand() - 0.5) * Math.PI / 2; // within ±45°: heading away
      const step = 50 + rand() * 40;
      x = Math.min(2000, Math.max(1, x + step * Math.cos(heading)));
      y = Math.min(2000, Math.max(1, y + step * Math.sin(heading)));
      // Now and then CMX reports a jump no one can walk in the time since the last sighting.
      const feet = rand() < 0.03 ? 200_000 : step;
      sightings.push({ mac, floor, x, y, feet, t });
    }
    return sightings;
  });
}

/** The PROTOCOLS.md §3 rules, written again here: metres per device and per venue day. */
function reference(walks: Sighting[][]): Map<string, { total: number; days: Map<string, number> }> {
  const result = new Map<string, { total: number; days: Map<string, number> }>();
  for (const walk of walks) {
    const entry = { total: 0, days: new Map<string, number>() };
    let floor: string | null = null, p1: Sighting | null = null, p2: Sighting | null = null, last = 0;
    for (const s of walk) {
      const seconds = floor === null ? 86_400 : (s.t - last) / 1000;
      const metres = Math.min(s.feet * 0.3048, seconds * 4.42);
      last = s.t;
      if (floor !== s.floor) {
        [floor, p1, p2] = [s.floor, s, null];
      } else if (p2 === null) {
        p2 = s;
      } else {
        const [ax, ay, bx, by] = [p1!.x - p2.x, p1!.y - p2.y, s.x - p2.x, s.y - p2.y];
        // Angle at p2 ≥ 90° ⇔ the dot product of p2→p1 and p2→p3 is ≤ 0; a zero-length side (a walker
        // pinned in a corner of the map) has no angle and counts as not heading away.
        const degenerate = (ax === 0 && ay === 0) || (bx === 0 && by === 0);
        if (!degenerate && ax * bx + ay * by <= 0) {
          entry.total += metres;
          // Venue time in June is UTC−7.
          const day = new Date(s.t - 7 * 3_600_000).toISOString().slice(0, 10);
          entry.days.set(day, (entry.days.get(day) ?? 0) + metres);
        }
        [p1, p2] = [p2, s];
      }
    }
    result.set(walk[0].mac, entry);
  }
  return result;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
const usDate = (day: string) => `${day.slice(5, 7)}/${day.slice(8, 10)}/${day.slice(0, 4)}`;

async function runDay(server: TestServer): Promise<void> {
  const walks = generateDay();
  const expected = reference(walks);
  for (let device = 0; device < REGISTERED; device++) {
    const registered = await live(server, "register_username", { username: `walker${device}`, ip: ipOf(device) });
    assert.equal(registered.status, 201);
  }
  // Each slice holds one sighting per device, posted as CMX does: batches of 50, several at once.
  for (let slice = 0; slice < SLICES; slice++) {
    const sightings = walks.map((walk) => walk[slice]);
    const posts: Promise<void>[] = [];
    for (let start = 0; start < sightings.length; start += PER_POST) {
      const notifications = sightings.slice(start, start + PER_POST).map((s) => ({
        notificationType: "movement",
        deviceId: s.mac,
        moveDistanceInFt: s.feet,
        locationCoordinate: { x: s.x, y: s.y, z: 0, unit: "FEET" },
        floorId: s.floor,
        timestamp: s.t,
      }));
      const body = JSON.stringify({ notifications }).replaceAll(/"floorId":"(\d+)"/g, '"floorId":$1');
      posts.push(
        postNotifications(server, body).then(async (response) => {
          assert.equal(response.status, 200);
          assert.equal((await response.json()).accepted, notifications.length);
        }),
      );
    }
    await Promise.all(posts);
  }

  const ranked = [...Array(REGISTERED).keys()]
    .map((device) => ({ username: `walker${device}`, metres: expected.get(macOf(device))!.total }))
    .sort((a, b) => b.metres - a.metres);
  const board = await live(server, "leaderboard", { number_leaders: 100 });
  assert.equal(board.status, 200);
  const { leaders, total_kilometres } = board.body as {
    leaders: { place: number; username: string; kilometres: number; miles: number }[];
    total_kilometres: number;
  };
  assert.deepEqual(
    leaders,
    ranked.slice(0, 100).map((entry, i) => ({
      kilometres: round(entry.metres / 1000, 1),
      miles: round(entry.metres / 1609.344, 1),
      place: i + 1,
      username: entry.username,
    })),
  );
  const allMetres = [...expected.values()].reduce((sum, entry) => sum + entry.total, 0);
  assert.equal(total_kilometres, round(allMetres / 1000, 1));

  for (const device of [0, 1, 17, 150, 299]) {
    const data = await live(server, "username_data", { username: `walker${device}`, days: 5 });
    assert.equal(data.status, 200);
    const mine = expected.get(macOf(device))!;
    const days = [...mine.days].sort(([a], [b]) => a.localeCompare(b)).slice(-5);
    assert.deepEqual(data.body, [{
      distance_day: days.map(([day, metres]) => ({
        date: usDate(day),
        km: round(metres / 1000, 3),
        miles: round(metres / 1609.344, 3),
      })),
      mac: macOf(device),
      place: ranked.findIndex((entry) => entry.username === `walker${device}`) + 1,
      total_kilometres: round(mine.total / 1000, 3),
      total_miles: round(mine.total / 1609.344, 3),
      username: `walker${device}`,
    }]);
  }
}

Deno.test("a generated day of 1,000 walking devices on SQLite matches the independent computation", async () => {
  await using server = await startCmxServer({}, { timeZone: "America/Los_Angeles" });
  await runDay(server);
});

Deno.test("the same day on PostgreSQL, end to end", async () => {
  const database = await createTestDatabase();
  try {
    await using server = await startCmxServer({ databaseUrl: database.url }, { timeZone: "America/Los_Angeles" });
    await runDay(server);
  } finally {
    await database.drop();
  }
});
