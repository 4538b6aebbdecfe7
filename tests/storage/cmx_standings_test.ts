import assert from "node:assert/strict";
import {
  batchStandings,
  CmxStandings,
  placeIn,
  STALE_RESYNC_MS,
  type StandingsSnapshot,
} from "../../storage/cmx_standings.ts";

/** Standings over a loader the test controls, on a clock it sets. */
function standings(first: StandingsSnapshot, resyncMs = 1000) {
  const clock = { now: 0 };
  const loads: ((snapshot: StandingsSnapshot) => void)[] = [];
  let failNext = false;
  let calls = 0;
  const subject = new CmxStandings(
    () => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error("db down"));
      }
      return calls++ === 0 ? Promise.resolve(first) : new Promise((resolve) => loads.push(resolve));
    },
    resyncMs,
    () => clock.now,
  );
  return { subject, clock, loads, failFirst: () => (failNext = true) };
}

const snapshot = (ranking: number[], totalMetres: number) => ({ ranking: Float64Array.from(ranking), totalMetres });
const places = (subject: CmxStandings, metres: number[]) => metres.map((m) => subject.place(m));

Deno.test("placeIn: 1 + how many walked farther, ties share a place", () => {
  const ranking = Float64Array.from([900, 500, 500, 100, 0]);
  const cases: [number, number][] = [[1000, 1], [900, 1], [700, 2], [500, 2], [400, 4], [100, 4], [50, 5], [0, 5]];
  for (const [metres, place] of cases) assert.equal(placeIn(ranking, metres), place, String(metres));
  assert.equal(placeIn(new Float64Array(), 10), 1);
});

Deno.test("CmxStandings: commits move devices on the ranking and the total without a reload", async () => {
  const { subject } = standings(snapshot([900, 500, 500, 100, 0], 2500));
  await subject.ready();
  // One 500 walks on to 1000, a device joins at 300, the one at 0 leaves, and 42 (not held) leaves too.
  subject.apply(520, [
    { before: 500, after: 1000 },
    { before: null, after: 300 },
    { before: 0, after: null },
    { before: 42, after: null },
    { before: 100, after: 100 },
  ]);
  assert.equal(subject.totalMetres, 3020);
  assert.deepEqual(places(subject, [1000, 900, 500, 300, 100, 50]), [1, 2, 3, 4, 5, 6]);
  subject.apply(0, [{ before: 1000, after: null }, { before: 300, after: 300 }]);
  assert.deepEqual(places(subject, [900, 500, 300, 100, 0]), [1, 2, 3, 4, 5]);
});

Deno.test("CmxStandings: the first call waits for the load, later ones reload in the background", async () => {
  const { subject, clock, loads } = standings(snapshot([10], 10));
  subject.apply(5, [{ before: null, after: 99 }]);
  await subject.ready();
  assert.equal(subject.totalMetres, 10, "a commit before the first load is already in it");
  assert.equal(subject.place(50), 1);
  clock.now = 999;
  await subject.ready();
  assert.equal(loads.length, 0, "fresh enough: no reload");
  clock.now = 1000;
  await subject.ready();
  assert.equal(loads.length, 1, "stale: a reload started, and the caller did not wait for it");
  await subject.ready();
  assert.equal(loads.length, 1, "one reload at a time");
  assert.equal(subject.place(5), 2, "meanwhile the old standings answer");
  loads[0](snapshot([70, 60], 130));
  await Promise.resolve();
  assert.equal(subject.totalMetres, 130);
  assert.equal(subject.place(65), 2);
});

Deno.test("CmxStandings: a failed first load is not kept", async () => {
  const { subject, failFirst } = standings(snapshot([1], 1));
  failFirst();
  await assert.rejects(subject.ready(), /db down/);
  await subject.ready();
  assert.equal(subject.totalMetres, 1);
});

Deno.test("batchStandings: all added metres count, only registered devices that moved change the ranking", () => {
  const rows = [
    { mac: "a", metres: 10, registered: true },
    { mac: "b", metres: 20, registered: 0 },
    { mac: "c", metres: 30, registered: 1 },
  ];
  const devices = [{ mac: "a", addedMetres: 2.5 }, { mac: "b", addedMetres: 4 }, { mac: "c", addedMetres: 0 }, {
    mac: "d",
    addedMetres: 1,
  }];
  assert.deepEqual(batchStandings(rows, devices), { addedMetres: 7.5, changes: [{ before: 10, after: 12.5 }] });
});

Deno.test("CmxStandings.leaders: read once per limit until a registered device moves or the standings reload", async () => {
  const { subject, clock, loads } = standings(snapshot([10], 10));
  await subject.ready();
  const reads: number[] = [];
  const read = (limit: number) => {
    reads.push(limit);
    return Promise.resolve([{ place: 1, username: `read ${reads.length}`, metres: 10 }]);
  };
  assert.equal((await subject.leaders(5, read))[0].username, "read 1");
  assert.equal((await subject.leaders(5, read))[0].username, "read 1", "nothing moved: remembered");
  await subject.leaders(3, read);
  assert.deepEqual(reads, [5, 3], "each limit is read once");
  subject.apply(7, [{ before: 10, after: 10 }]);
  await subject.leaders(5, read);
  assert.deepEqual(reads, [5, 3], "metres of unregistered devices do not move the board");
  subject.apply(0, [{ before: 10, after: 17 }]);
  assert.equal((await subject.leaders(5, read))[0].username, "read 3", "a registered device moved");
  clock.now = 1000;
  await subject.ready();
  loads[0](snapshot([20], 20));
  await Promise.resolve();
  assert.equal((await subject.leaders(5, read))[0].username, "read 4", "a reload may bring other processes' walks");
});

Deno.test("CmxStandings.leaders: rows read while a commit lands are not remembered", async () => {
  const { subject } = standings(snapshot([10], 10));
  await subject.ready();
  let reads = 0;
  const read = async () => {
    reads++;
    if (reads === 1) subject.apply(0, [{ before: null, after: 30 }]);
    return await Promise.resolve([]);
  };
  await subject.leaders(5, read);
  await subject.leaders(5, read);
  assert.equal(reads, 2);
  await subject.leaders(5, read);
  assert.equal(reads, 2);
});

Deno.test("CmxStandings: told another process committed, they reload a second later, not at every request", async () => {
  const { subject, clock, loads } = standings(snapshot([10], 10), 60_000);
  await subject.ready();
  subject.apply(5, [{ before: 10, after: 15 }]);
  clock.now = 59_999;
  await subject.ready();
  assert.equal(loads.length, 0, "this process's own commits need no reload");
  clock.now = 60_000;
  await subject.ready();
  assert.equal(loads.length, 1, "a resync period without notice reloads anyway");
  loads[0](snapshot([15], 15));
  await Promise.resolve();

  subject.stale();
  subject.stale();
  clock.now = 60_000 + STALE_RESYNC_MS - 1;
  await subject.ready();
  assert.equal(loads.length, 1, "within a second of the last load: no reload yet");
  clock.now = 60_000 + STALE_RESYNC_MS;
  await subject.ready();
  await subject.ready();
  assert.equal(loads.length, 2, "one reload for any number of notices");
  loads[1](snapshot([40, 15], 55));
  await Promise.resolve();
  assert.equal(subject.place(20), 2, "the other process's walk shows");
  clock.now += STALE_RESYNC_MS;
  await subject.ready();
  assert.equal(loads.length, 2, "after the reload the standings are fresh again");
});

Deno.test("CmxStandings: a commit landing while a snapshot is read brings another reload a second later", async () => {
  const { subject, clock, loads } = standings(snapshot([10], 10), 60_000);
  await subject.ready();
  clock.now = 60_000;
  await subject.ready();
  assert.equal(loads.length, 1);
  // The snapshot was read before this commit: replacing the standings with it drops the commit.
  subject.apply(5, [{ before: 10, after: 15 }]);
  loads[0](snapshot([10], 10));
  await Promise.resolve();
  assert.equal(subject.place(12), 1, "the commit is missing from the snapshot");
  clock.now = 60_000 + STALE_RESYNC_MS;
  await subject.ready();
  assert.equal(loads.length, 2, "so the standings reload again");
  loads[1](snapshot([15], 15));
  await Promise.resolve();
  assert.equal(subject.place(12), 2);
});
