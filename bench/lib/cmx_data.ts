/**
 * Generated CMX data: registered users with a history of daily distances,
 * written through the record store API (`store.cmx.register` and
 * `store.cmx.record`, the same code paths fieldgate uses), and the wrk Lua
 * script that posts movement batches shaped like the CMX fixture.
 */
import { loadConfig } from "../../config.ts";
import { dayIn, decideRegistration, usernameEmail } from "../../domain/cmx_live.ts";
import type { CmxMovement } from "../../domain/cmx_notification.ts";
import { openRecordStore } from "../../storage/open.ts";
import type { CmxRules } from "../../storage/types.ts";
import type { BenchContext } from "./context.ts";
import type { Backend, PreparedData } from "./fieldgate.ts";
import { createScratchDatabase, vacuumAnalyze } from "./postgres.ts";
import { postPreamble } from "./wrk.ts";

/** Generated data on disk or in a scratch database; {@link CmxData.remove} deletes it. */
export interface CmxData extends PreparedData {
  users: number;
  historyRows: number;
  /** Seconds the generation took. */
  generateS: number;
  remove(): Promise<void>;
}

const FLOOR_ID = "723413320329068590";
const DAY_MS = 86_400_000;
/** Users whose movements go into one `record()` call (one transaction). */
const USERS_PER_RECORD = 1_000;
/** Registrations in flight at once (PostgreSQL overlaps them; SQLite runs them one by one anyway). */
const REGISTER_CONCURRENCY = 16;

/** Generated user `i` is called this followed by `i`. */
export const BENCH_USERNAME_PREFIX = "walker";

/** The user name of generated user `i`, as the /live API takes it. */
export function benchUsername(i: number): string {
  return `${BENCH_USERNAME_PREFIX}${i}`;
}

/** The MAC of generated user `i`'s device. */
function userMac(i: number): string {
  const hex = (0x5e000000 + i).toString(16).padStart(8, "0");
  return `00:00:${hex.match(/../g)!.join(":")}`;
}

/**
 * `users` registered users (one device each) and `historyRows` rows of
 * `distance_history` spread evenly over them (one row per device and day,
 * each from a movement heading straight on), on `backend`.
 */
export async function generateCmxData(
  context: BenchContext,
  backend: Backend,
  sizes: { users: number; historyRows: number },
): Promise<CmxData> {
  const started = performance.now();
  const dataDir = await context.newDir(`cmx-data-${backend}-`);
  const database = backend === "postgres" ? await createScratchDatabase(context.postgresUrl) : null;
  const remove = async () => {
    await database?.drop();
    await Deno.remove(dataDir, { recursive: true });
  };
  const config = loadConfig({ overrides: { dataDir, databaseUrl: database?.url ?? "" } });
  const rules: CmxRules = {
    distance: { maxMetresPerSecond: config.cmx.maxMetresPerSecond, maxMovingAngle: config.cmx.maxMovingAngle },
    dayOf: dayIn(config.cmx.timeZone),
  };
  const store = await openRecordStore(config);
  const progress = (what: string, done: number, total: number) =>
    console.error(
      `cmx data ${backend}: ${what} ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}` +
        ` (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  try {
    for (let first = 0; first < sizes.users; first += REGISTER_CONCURRENCY) {
      const count = Math.min(REGISTER_CONCURRENCY, sizes.users - first);
      await Promise.all(Array.from({ length: count }, async (_, k) => {
        const email = usernameEmail(benchUsername(first + k));
        const outcome = await store.cmx.register(
          { email, nickname: benchUsername(first + k) },
          userMac(first + k),
          (facts) => decideRegistration(email, facts, config.cmx.maxRegisteredDevices),
        );
        if (outcome !== "created") throw new Error(`registering ${email}: ${outcome}`);
      }));
      if ((first + count) % 5_000 < REGISTER_CONCURRENCY || first + count === sizes.users) {
        progress("users", first + count, sizes.users);
      }
    }
    // Days as even as possible: the first `extra` users get one more.
    const perUser = Math.floor(sizes.historyRows / sizes.users);
    const extra = sizes.historyRows % sizes.users;
    const startMs = Date.UTC(2024, 0, 1, 12);
    let rows = 0;
    for (let first = 0; first < sizes.users; first += USERS_PER_RECORD) {
      const movements: CmxMovement[] = [];
      const last = Math.min(sizes.users, first + USERS_PER_RECORD);
      for (let i = first; i < last; i++) {
        const days = perUser + (i < extra ? 1 : 0);
        movements.push(...walk(userMac(i), days, startMs, 30 + (i % 97)));
        rows += days;
      }
      await store.cmx.record({ movements, zones: [], receivedAt: new Date() }, rules);
      progress("history rows", rows, sizes.historyRows);
    }
  } catch (error) {
    await store.close();
    await remove();
    throw error;
  }
  await store.close();
  // Without statistics of the bulk load PostgreSQL planned username_data worse: its p50 was 2.9–3.5 ms instead of
  // 2.1–2.4 (harness client, 4 runs each), until autovacuum came by during the measurements.
  if (database) await vacuumAnalyze(database.url);
  return {
    dataDir,
    databaseUrl: database?.url ?? "",
    users: sizes.users,
    historyRows: sizes.historyRows,
    generateS: (performance.now() - started) / 1000,
    remove,
  };
}

/**
 * One device walking straight along x: two sightings on day 0 (the algorithm only remembers
 * them), then one per day, each heading on, so each of days 1…`days` gets one history row.
 */
function walk(mac: string, days: number, startMs: number, moveFeet: number): CmxMovement[] {
  const at = (step: number, timestampMs: number): CmxMovement => ({
    mac,
    moveFeet,
    point: { x: 10 + step * 15, y: 20 },
    floorId: FLOOR_ID,
    timestampMs,
  });
  const movements = [at(0, startMs), at(1, startMs + 60_000)];
  for (let day = 1; day <= days; day++) movements.push(at(day + 1, startMs + day * DAY_MS));
  return movements;
}

/**
 * A wrk Lua script POSTing `batch` movement notifications per request, each shaped like the first
 * entry of `fixture` (../shared/fixtures/cmx-movement.json). Every wrk thread walks its own
 * `devicesPerThread` devices round robin: each visit is 5 s later and 15 ft further along x, so
 * every step after a device's second counts distance.
 */
export function movementScript(
  fixture: string,
  options: { batch: number; devicesPerThread: number; headers: Record<string, string> },
): string {
  const entry = /\{"notificationType":"movement".*?"timestamp":\d+\}/.exec(fixture)?.[0];
  if (!entry) throw new Error("the CMX fixture has no movement notification");
  // Each varying field becomes a string.format directive; Lua receives the values in text order.
  // wrk runs LuaJIT (Lua 5.1): no integer division or bit operators, hence math.floor and %.
  const fields: [RegExp, string, string][] = [
    [/"x":[\d.]+,"y":[\d.]+/, '"x":%.1f,"y":%.1f', "x, y"],
    [
      /"deviceId":"[^"]+"/,
      '"deviceId":"00:00:%02x:%02x:%02x:%02x"',
      "tid, math.floor(d / 65536) % 256, math.floor(d / 256) % 256, d % 256",
    ],
    [/"moveDistanceInFt":[\d.]+/, '"moveDistanceInFt":%.1f', "feet"],
    [/"timestamp":\d+/, '"timestamp":%d', "ts"],
  ];
  let template = entry.replaceAll("%", "%%");
  const ordered = fields.map(([pattern, directive, values]) => {
    if (!pattern.test(template)) throw new Error(`the CMX fixture entry has no ${pattern}`);
    template = template.replace(pattern, directive);
    return { at: template.indexOf(directive), values };
  }).sort((a, b) => a.at - b.at);
  return [
    ...postPreamble(options.headers),
    "local threads = 0",
    "function setup(thread) thread:set('tid', threads); threads = threads + 1 end",
    `local BATCH, POOL, BASE = ${options.batch}, ${options.devicesPerThread}, ${Date.UTC(2024, 5, 10, 16)}`,
    `local FORMAT = ${JSON.stringify(template)}`,
    "local n = 0",
    "function request()",
    "  local parts = {}",
    "  for i = 1, BATCH do",
    "    local d, visit = n % POOL, math.floor(n / POOL)",
    "    n = n + 1",
    "    local x, y, feet, ts = 10 + visit * 15, 10 + d % 100, 50 + d % 10, BASE + visit * 5000 + d",
    `    parts[i] = string.format(FORMAT, ${ordered.map((field) => field.values).join(", ")})`,
    "  end",
    '  return wrk.format(nil, nil, nil, \'{"notifications":[\' .. table.concat(parts, ",") .. "]}")',
    "end",
  ].join("\n") + "\n";
}
