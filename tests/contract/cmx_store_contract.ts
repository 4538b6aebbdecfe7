/**
 * The CMX part of the record store contract: notification batches through
 * group commit (in timestamp order per device, across posts and across two
 * stores on one database), registrations, the leader board, history, counters,
 * zones and the unlogged switch.
 */
import assert from "node:assert/strict";
import { advance, DEFAULT_DISTANCE_SETTINGS, type DistanceState, METRES_PER_FOOT } from "../../domain/cmx_distance.ts";
import { dayIn, decideRegistration } from "../../domain/cmx_live.ts";
import type { CmxMovement } from "../../domain/cmx_notification.ts";
import type { CmxBatch, CmxRules, RecordStore } from "../../storage/types.ts";
import { contractCases, type ContractDatabase } from "./harness.ts";

const T0 = Date.UTC(2024, 5, 10, 16, 0, 0);
const FLOOR = "723413320329068590";
const RULES: CmxRules = { distance: DEFAULT_DISTANCE_SETTINGS, dayOf: dayIn("UTC") };
const STEP_M = 50 * METRES_PER_FOOT;

/** A movement of `mac` to (x, 100) at T0 + `seconds`, 50 ft each. */
function move(mac: string, x: number, seconds: number): CmxMovement {
  return { mac, floorId: FLOOR, point: { x, y: 100 }, moveFeet: 50, timestampMs: T0 + seconds * 1000 };
}

function post(movements: CmxMovement[], zones: CmxBatch["zones"] = []): CmxBatch {
  return { movements, zones, receivedAt: new Date() };
}

/** A straight walk east of `steps` sightings one minute apart, starting at `startMinute`. */
function walk(mac: string, steps: number, startMinute = 0): CmxMovement[] {
  return Array.from({ length: steps }, (_, i) => move(mac, 100 + 50 * (startMinute + i), 60 * (startMinute + i)));
}

/** Metres the algorithm gives for `movements` applied in timestamp order (the independent reference). */
function expectedMetres(movements: CmxMovement[]): number {
  let state: DistanceState | null = null;
  let total = 0;
  for (const m of [...movements].sort((a, b) => a.timestampMs - b.timestampMs)) {
    const step = advance(state, m, DEFAULT_DISTANCE_SETTINGS);
    state = step.state;
    total += step.addedMetres;
  }
  return total;
}

async function register(store: RecordStore, nickname: string, mac: string, maxDevices = 1) {
  const email = `${nickname}@cmxtrackyoursteps.com`;
  return await store.cmx.register({ email, nickname }, mac, (facts) => decideRegistration(email, facts, maxDevices));
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;

/** Registers the CMX contract cases for one adapter, named `<name> contract: cmx: …`. */
export function cmxStoreContract(name: string, freshDatabase: () => Promise<ContractDatabase>): void {
  const contractCase = contractCases(name, freshDatabase);

  contractCase("cmx: a walk is stored per device and per day, and read back for its user", async (open) => {
    const store = await open();
    assert.equal(await register(store, "alice", "00:00:00:00:00:01"), "created");
    // 3 sightings before midnight UTC and 3 after: day 1 gets one step, day 2 three.
    const late = Date.UTC(2024, 5, 10, 23, 57) - T0;
    const steps = Array.from({ length: 6 }, (_, i) => move("00:00:00:00:00:01", 100 + 50 * i, late / 1000 + 60 * i));
    await store.cmx.record(post(steps.slice(0, 2)), RULES);
    await store.cmx.record(post(steps.slice(2)), RULES);
    const [device] = (await store.cmx.userDevices("alice@cmxtrackyoursteps.com"))!;
    assert.equal(device.mac, "00:00:00:00:00:01");
    assert.ok(close(device.metres, 4 * STEP_M), `${device.metres}`);
    assert.equal(device.place, 1);
    assert.equal(device.sighted, true);
    const days = await store.cmx.deviceDays("00:00:00:00:00:01", 5);
    assert.deepEqual(days.map((d) => d.day), ["2024-06-10", "2024-06-11"]);
    assert.ok(close(days[0].metres, STEP_M) && close(days[1].metres, 3 * STEP_M));
    assert.deepEqual((await store.cmx.deviceDays("00:00:00:00:00:01", 1)).map((d) => d.day), ["2024-06-11"]);
    assert.deepEqual(device.days, [], "no days unless asked for");
    const [withDays] = (await store.cmx.userDevices("alice@cmxtrackyoursteps.com", 5))!;
    assert.deepEqual(withDays.days, days, "the same days, read along with the device");
    const [lastDay] = (await store.cmx.userDevices("alice@cmxtrackyoursteps.com", 1))!;
    assert.deepEqual(lastDay.days.map((d) => d.day), ["2024-06-11"]);
    assert.equal(await store.cmx.userDevices("nobody@cmxtrackyoursteps.com"), null);
  });

  contractCase("cmx: concurrent posts for one device are applied in timestamp order", async (open) => {
    const batchSizes: number[] = [];
    const store = await open({ maxDelayMs: 20, onCommit: (size) => batchSizes.push(size) });
    const mac = "00:00:00:00:00:02";
    const steps = walk(mac, 8);
    // Posted newest first, all at once: one batch must still apply them oldest first.
    await Promise.all([...steps].reverse().map((m) => store.cmx.record(post([m]), RULES)));
    assert.deepEqual(batchSizes, [8]);
    // A later batch continues from the committed state (the walk goes on straight).
    await store.cmx.record(post(walk(mac, 2, 8)), RULES);
    await register(store, "bob", mac);
    const [device] = (await store.cmx.userDevices("bob@cmxtrackyoursteps.com"))!;
    assert.ok(close(device.metres, expectedMetres(walk(mac, 10))), `${device.metres}`);
    assert.ok(close(device.metres, 8 * STEP_M));
  });

  contractCase("cmx: two stores on one database share devices without losing or reordering steps", async (open) => {
    const [a, b] = [await open(), await open()];
    const macs = Array.from({ length: 20 }, (_, i) => `00:00:00:00:01:${i.toString(16).padStart(2, "0")}`);
    // Each device's walk alternates between the two stores, one post after the other.
    for (let i = 0; i < 6; i++) {
      await Promise.all(
        macs.map((mac, d) => ((i + d) % 2 === 0 ? a : b).cmx.record(post([move(mac, 100 + 50 * i, 60 * i)]), RULES)),
      );
    }
    for (const [i, mac] of macs.entries()) await register(i % 2 ? a : b, `walker${i}`, mac);
    const board = await a.cmx.leaderboard(100);
    assert.equal(board.leaders.length, 20);
    for (const leader of board.leaders) assert.ok(close(leader.metres, 4 * STEP_M), `${leader.username}`);
    assert.ok(close(board.totalMetres, 20 * 4 * STEP_M));
  });

  contractCase("cmx: registration outcomes; deleting a user keeps the device's distance", async (open) => {
    const store = await open();
    const mac = "00:00:00:00:00:03";
    assert.equal(await register(store, "carol", mac), "created");
    assert.equal(await register(store, "carol", mac), "already-registered");
    assert.equal(await register(store, "carol", "00:00:00:00:00:04"), "username-taken");
    assert.equal(await register(store, "dave", mac), "device-owned");
    assert.equal(await store.cmx.ownerName(mac), "carol");
    await store.cmx.record(post(walk(mac, 3)), RULES);
    assert.equal(await store.cmx.deleteUser("carol@cmxtrackyoursteps.com"), true);
    assert.equal(await store.cmx.deleteUser("carol@cmxtrackyoursteps.com"), false);
    assert.equal(await store.cmx.ownerName(mac), null);
    assert.deepEqual((await store.cmx.leaderboard(5)).leaders, [], "no longer on the leader board");
    assert.equal(await register(store, "dave", mac), "created");
    const [device] = (await store.cmx.userDevices("dave@cmxtrackyoursteps.com"))!;
    assert.ok(close(device.metres, STEP_M), "the distance stayed with the device");
  });

  contractCase("cmx: with MAX_REGISTERED_DEVICES above 1 a user adds devices up to the cap", async (open) => {
    const store = await open();
    assert.equal(await register(store, "erin", "00:00:00:00:00:11", 2), "created");
    assert.equal(await register(store, "erin", "00:00:00:00:00:12", 2), "device-added");
    assert.equal(await register(store, "erin", "00:00:00:00:00:13", 2), "username-taken");
    const devices = (await store.cmx.userDevices("erin@cmxtrackyoursteps.com"))!;
    assert.deepEqual(devices.map((device) => device.mac).sort(), ["00:00:00:00:00:11", "00:00:00:00:00:12"]);
    assert.equal(await store.cmx.ownerName("00:00:00:00:00:12"), "erin");
  });

  contractCase("cmx: leader board ranks registered devices, ties share a place; total counts all", async (open) => {
    const store = await open();
    const walks: [string, string | null, number][] = [
      ["00:00:00:00:00:10", "ann", 5],
      ["00:00:00:00:00:11", "ben", 4],
      ["00:00:00:00:00:12", "cat", 4],
      ["00:00:00:00:00:13", null, 9],
      ["00:00:00:00:00:14", "dan", 3],
    ];
    for (const [mac, nickname, steps] of walks) {
      await store.cmx.record(post(walk(mac, steps)), RULES);
      if (nickname) await register(store, nickname, mac);
    }
    await register(store, "eve", "00:00:00:00:00:15"); // registered, never sighted
    const board = await store.cmx.leaderboard(10);
    assert.deepEqual(board.leaders.map((l) => [l.place, l.username]), [
      [1, "ann"],
      [2, "ben"],
      [2, "cat"],
      [4, "dan"],
      [5, "eve"],
    ]);
    assert.ok(close(board.totalMetres, (3 + 2 + 2 + 7 + 1) * STEP_M));
    assert.deepEqual((await store.cmx.leaderboard(1)).leaders.map((l) => l.username), ["ann"]);
    const [eve] = (await store.cmx.userDevices("eve@cmxtrackyoursteps.com"))!;
    assert.deepEqual(eve, { mac: "00:00:00:00:00:15", metres: 0, place: 5, sighted: false, days: [] });
    const [cat] = (await store.cmx.userDevices("cat@cmxtrackyoursteps.com"))!;
    assert.equal(cat.place, 2);
  });

  contractCase("cmx: places and the total follow every commit at once, not a second later", async (open) => {
    const store = await open();
    const place = async (nickname: string) =>
      (await store.cmx.userDevices(`${nickname}@cmxtrackyoursteps.com`))![0].place;
    await store.cmx.record(post(walk("00:00:00:00:00:30", 3)), RULES);
    await register(store, "fay", "00:00:00:00:00:30");
    assert.equal(await place("fay"), 1, "standings loaded");
    await store.cmx.record(post(walk("00:00:00:00:00:31", 5)), RULES);
    await register(store, "gus", "00:00:00:00:00:31");
    assert.deepEqual([await place("fay"), await place("gus")], [2, 1], "a registration with distance ranks at once");
    await store.cmx.record(post(walk("00:00:00:00:00:30", 4, 3)), RULES);
    const total = expectedMetres(walk("00:00:00:00:00:30", 7)) + expectedMetres(walk("00:00:00:00:00:31", 5));
    assert.deepEqual([await place("fay"), await place("gus")], [1, 2], "a walk moves its device at once");
    assert.ok(close((await store.cmx.leaderboard(1)).totalMetres, total));
    await store.cmx.deleteUser("fay@cmxtrackyoursteps.com");
    assert.equal(await place("gus"), 1, "a deleted user's device leaves the ranking");
    assert.ok(close((await store.cmx.leaderboard(1)).totalMetres, total), "its distance still counts");
  });

  contractCase("cmx: counters per minute and zones", async (open) => {
    const store = await open();
    await store.cmx.record(post(walk("00:00:00:00:00:20", 3)), RULES);
    await store.cmx.record(
      post([], [{ zone: "Venue>Hall A", timestampMs: T0 }, { zone: "Venue>Hall B", timestampMs: T0 }]),
      RULES,
    );
    await store.cmx.record(post([], [{ zone: "Venue>Hall A", timestampMs: T0 + 5 }]), RULES);
    const summary = await store.cmx.summary(10);
    assert.equal(summary.trackedDevices, 1);
    assert.equal(summary.zones, 2);
    assert.equal(summary.perMinute.reduce((sum, m) => sum + m.notifications, 0), 6);
    assert.equal(summary.perMinute.reduce((sum, m) => sum + m.newDevices, 0), 1);
  });

  contractCase(
    "cmx: cmx.unlogged switches table persistence; registrations survive a truncation",
    async (open, inspect) => {
      const store = await open();
      await register(store, "fay", "00:00:00:00:00:30");
      await store.cmx.record(post(walk("00:00:00:00:00:30", 3)), RULES);
      await store.cmx.setUnlogged(true);
      if (store.backend !== "postgres") return; // SQLite: nothing to switch
      const persistence = async () =>
        (await inspect(
          "select relname, relpersistence from pg_class where relname like 'cmx_%' and relkind = 'r' order by 1",
        ))
          .map((row) => `${row.relname}:${row.relpersistence}`);
      assert.deepEqual(await persistence(), [
        "cmx_counts:u",
        "cmx_devices:p",
        "cmx_distance:u",
        "cmx_distance_history:u",
        "cmx_users:p",
        "cmx_zones:u",
      ]);
      // What PostgreSQL does to unlogged tables after a crash; the next start repairs the owner copies.
      await inspect("truncate cmx_distance");
      await store.cmx.setUnlogged(true);
      assert.deepEqual((await store.cmx.leaderboard(5)).leaders.map((l) => [l.username, l.metres]), [["fay", 0]]);
      await store.cmx.setUnlogged(false);
      assert.ok((await persistence()).every((entry) => entry.endsWith(":p")));
    },
  );
}

/** What only stores on a database several instances share must do (PostgreSQL). */
export function cmxSharedStoreContract(name: string, freshDatabase: () => Promise<ContractDatabase>): void {
  const contractCase = contractCases(name, freshDatabase);

  contractCase("cmx: another instance's walks and registrations show within seconds", async (open) => {
    const [first, second] = [await open(), await open()];
    const place = async (store: RecordStore, nickname: string) =>
      (await store.cmx.userDevices(`${nickname}@cmxtrackyoursteps.com`))![0].place;
    await register(first, "hal", "00:00:00:00:00:40");
    await first.cmx.record(post(walk("00:00:00:00:00:40", 3)), RULES);
    await register(second, "ida", "00:00:00:00:00:41");
    await second.cmx.record(post(walk("00:00:00:00:00:41", 5)), RULES);
    assert.equal(await place(second, "ida"), 1, "standings loaded with both walks");

    await first.cmx.record(post(walk("00:00:00:00:00:40", 10, 3)), RULES);
    await register(first, "joe", "00:00:00:00:00:42");
    // Well before the periodic resync: the first instance announced its commits.
    const deadline = Date.now() + 5_000;
    while (await place(second, "ida") !== 2) {
      assert.ok(Date.now() < deadline, "the other instance's walk never showed");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const total = expectedMetres(walk("00:00:00:00:00:40", 13)) + expectedMetres(walk("00:00:00:00:00:41", 5));
    assert.ok(close((await second.cmx.leaderboard(3)).totalMetres, total));
    assert.deepEqual((await second.cmx.leaderboard(3)).leaders.map((l) => l.username), ["hal", "ida", "joe"]);
  });
}
