/**
 * The OTT part of the contract every {@link RecordStore} adapter must pass.
 * Each case gets a fresh, empty database from the adapter's test file and may
 * open several stores on it (to test reopening and concurrent instances).
 */
import assert from "node:assert/strict";
import type {
  OttAlarm,
  OttRecord,
  OttValue,
  OttValueFilter,
  RecordStore,
  StoredOttValue,
} from "../../storage/types.ts";
import { contractCases, type ContractDatabase } from "./harness.ts";

const BASE_TIME = Date.UTC(2024, 2, 5, 10, 0, 0, 123);
const minutes = (n: number) => new Date(BASE_TIME + n * 60_000);

/** Registers the contract cases for one adapter, named `<name> contract: …`. */
export function ottStoreContract(name: string, freshDatabase: () => Promise<ContractDatabase>): void {
  const contractCase = contractCases(name, freshDatabase);

  contractCase("records and reads back exact values", async (open) => {
    const store = await open();
    assert.equal(store.backend, name);
    await store.ping();
    const values = [
      value("S1", "0010", minutes(0), 21.4, { unit: "°C", channelName: "Température" }),
      value("S1", "0010", minutes(1), null, { rawValue: "---", errorCode: "E07", errorText: "sensor lost ü→ß" }),
      value("S1", "0020", new Date(BASE_TIME + 1), 0.1 + 0.2),
      value("S1", "0030", minutes(2), -1.7976931348623157e308, { rawValue: "-1.79e308" }),
      value("S1", "0040", minutes(3), 5e-324, { unit: "" }),
      value("S1", "0050", minutes(4), 42),
      value("S1", "0060", minutes(4), Infinity, { rawValue: "1e999" }),
    ];
    await store.ott.record(ottRecord("S1", "senddata/a", minutes(5), { values }));
    assert.deepEqual(await readAll(store, {}), values.map((v) => ({ ...v, file: "senddata/a" })));

    const notANumber = value("S2", "0010", minutes(0), NaN, { rawValue: "NaN" });
    await store.ott.record(ottRecord("S2", "senddata/b", minutes(6), { values: [notANumber] }));
    assert.deepEqual(await readAll(store, { stationId: "S2" }), [{ ...notANumber, value: null, file: "senddata/b" }]);
  });

  contractCase("a value with an existing station, channel and time is replaced", async (open) => {
    const store = await open();
    await store.ott.record(ottRecord("S1", "first", minutes(0), { values: [value("S1", "C1", minutes(0), 1)] }));
    await store.ott.record(ottRecord("S1", "second", minutes(1), {
      values: [
        value("S1", "C1", minutes(0), 2, { channelName: "renamed", errorCode: "E1" }),
        value("S1", "C1", minutes(1), 7),
        value("S1", "C1", minutes(1), 8), // the same key twice in one record: the later one wins
      ],
    }));
    // Two records in one batch touching one key: the one recorded last wins.
    await Promise.all([
      store.ott.record(ottRecord("S1", "third", minutes(2), { values: [value("S1", "C2", minutes(0), 3)] })),
      store.ott.record(ottRecord("S1", "fourth", minutes(3), { values: [value("S1", "C2", minutes(0), 4)] })),
    ]);
    assert.deepEqual(await readAll(store, {}), [
      { ...value("S1", "C1", minutes(0), 2, { channelName: "renamed", errorCode: "E1" }), file: "second" },
      { ...value("S1", "C1", minutes(1), 8), file: "second" },
      { ...value("S1", "C2", minutes(0), 4), file: "fourth" },
    ]);
  });

  contractCase("filters by station, channel and time bounds", async (open) => {
    const store = await open();
    const grid = ["S1", "S2"].flatMap((station) =>
      ["C1", "C2"].flatMap((channel) => [0, 1, 2, 3].map((m) => value(station, channel, minutes(m), m)))
    );
    await store.ott.record(ottRecord("S1", "grid", minutes(9), { values: grid }));
    const keys = async (filter: OttValueFilter) =>
      (await readAll(store, filter)).map((v) =>
        `${v.stationId}/${v.channelId}/${(v.time.getTime() - BASE_TIME) / 60_000}`
      );

    assert.equal((await keys({})).length, 16);
    assert.deepEqual(await keys({ stationId: "S2", channelId: "C1" }), ["S2/C1/0", "S2/C1/1", "S2/C1/2", "S2/C1/3"]);
    assert.deepEqual(await keys({ channelId: "C2", from: minutes(3) }), ["S1/C2/3", "S2/C2/3"]);
    assert.deepEqual(await keys({ stationId: "S1", channelId: "C1", from: minutes(1), to: minutes(3) }), [
      "S1/C1/1",
      "S1/C1/2",
    ], "from is inclusive, to exclusive");
    assert.deepEqual(await keys({ to: minutes(0) }), []);
    assert.deepEqual(await keys({ stationId: "nobody" }), []);
    assert.deepEqual(await keys({ from: minutes(2), to: minutes(2) }), []);
  });

  contractCase("orders by station, channel and time (bytewise ids)", async (open) => {
    const store = await open();
    const shuffled = [
      value("b", "2", minutes(1), 1),
      value("B", "1", minutes(0), 2),
      value("a", "10", minutes(2), 3),
      value("a", "10", minutes(-5), 4),
      value("a", "9", minutes(0), 5),
      value("a", "Z", minutes(0), 6),
    ];
    await store.ott.record(ottRecord("a", "order", minutes(0), { values: shuffled }));
    const order = (await readAll(store, {})).map((v) => v.value);
    assert.deepEqual(order, [2, 4, 3, 5, 6, 1]);
  });

  contractCase("streams more than 2,500 rows across keyset pages", async (open) => {
    const store = await open();
    const channels = ["C1", "C2", "C3"];
    // 1,800 values in one record also exceed one multi-row insert.
    for (const [i, group] of [channels.slice(0, 2), channels.slice(2)].entries()) {
      const values = group.flatMap((channel) =>
        Array.from({ length: 900 }, (_, m) => value("S1", channel, minutes(m), m))
      );
      await store.ott.record(ottRecord("S1", `bulk-${i}`, minutes(i), { values }));
    }
    const all = await readAll(store, {});
    assert.equal(all.length, 2_700);
    const keys = all.map((v) => `${v.channelId}/${v.time.getTime()}`);
    assert.equal(new Set(keys).size, 2_700, "no row repeated at a page boundary");
    assert.deepEqual(
      keys,
      channels.flatMap((c) => Array.from({ length: 900 }, (_, m) => `${c}/${minutes(m).getTime()}`)),
    );

    const bounded = await readAll(store, { stationId: "S1", from: minutes(100), to: minutes(800) });
    assert.equal(bounded.length, 3 * 700);
    assert.ok(bounded.every((v) => v.time >= minutes(100) && v.time < minutes(800)));
    const limited = await readAll(store, { limit: 2_345 });
    assert.deepEqual(limited, all.slice(0, 2_345));
  });

  contractCase("honours limit", async (open) => {
    const store = await open();
    const values = Array.from({ length: 5 }, (_, m) => value("S1", "C1", minutes(m), m));
    await store.ott.record(ottRecord("S1", "five", minutes(0), { values }));
    assert.equal((await readAll(store, { limit: 0 })).length, 0);
    assert.deepEqual((await readAll(store, { limit: 2 })).map((v) => v.value), [0, 1]);
    assert.equal((await readAll(store, { limit: 50 })).length, 5);
    await assert.rejects(readAll(store, { limit: -1 }), RangeError);
  });

  contractCase("counts transmissions and alarms per station, newest last_seen first", async (open) => {
    const store = await open();
    await store.ott.record(ottRecord("S1", "s1-a", minutes(10), { values: [value("S1", "C1", minutes(0), 1)] }));
    await store.ott.record(ottRecord("S1", "s1-b", minutes(2), { parseError: "not XML" })); // older, arrives later
    await store.ott.record(ottRecord("S1", "s1-c", minutes(5), { alarm: ottAlarm("S1", minutes(5)) }));
    await store.ott.record(ottRecord("S2", "s2-a", minutes(20)));
    await store.ott.record(ottRecord("S3", "s3-a", minutes(1), { alarm: ottAlarm("S3", null) }));
    assert.deepEqual(await store.ott.stations(), [
      { stationId: "S2", transmissions: 1, alarms: 0, lastSeen: minutes(20) },
      { stationId: "S1", transmissions: 3, alarms: 1, lastSeen: minutes(10) },
      { stationId: "S3", transmissions: 1, alarms: 1, lastSeen: minutes(1) },
    ]);
  });

  contractCase("returns the newest alarms first", async (open) => {
    const store = await open();
    await store.ott.record(ottRecord("S1", "alarm-old", minutes(1), { alarm: ottAlarm("S1", minutes(0)) }));
    await store.ott.record(ottRecord("S2", "alarm-new", minutes(9), { alarm: ottAlarm("S2", null) }));
    await store.ott.record(ottRecord("S1", "alarm-mid", minutes(5), { alarm: ottAlarm("S1", minutes(4)) }));
    await store.ott.record(ottRecord("S1", "no-alarm", minutes(30)));
    assert.deepEqual(await store.ott.recentAlarms(2), [
      { ...ottAlarm("S2", null), receivedAt: minutes(9), file: "alarm-new" },
      { ...ottAlarm("S1", minutes(4)), receivedAt: minutes(5), file: "alarm-mid" },
    ]);
    assert.deepEqual((await store.ott.recentAlarms(10)).map((a) => a.file), ["alarm-new", "alarm-mid", "alarm-old"]);
    assert.deepEqual(await store.ott.recentAlarms(0), []);
    await assert.rejects(store.ott.recentAlarms(-1), RangeError);
  });

  contractCase("200 concurrent records are all committed, in few transactions", async (open) => {
    const batchSizes: number[] = [];
    const store = await open({ onCommit: (size) => batchSizes.push(size) });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        store.ott.record(ottRecord(`S${i % 7}`, `concurrent-${i}`, minutes(i), {
          values: [value(`S${i % 7}`, "C1", minutes(i), i)],
        }))),
    );
    console.log(
      `${name}: 200 concurrent records committed in ${batchSizes.length} commit(s): ${batchSizes.join(", ")}`,
    );
    assert.equal(batchSizes.reduce((sum, size) => sum + size, 0), 200);
    assert.ok(batchSizes.length <= 20, `${batchSizes.length} commits for 200 records: group commit is not batching`);
    assert.deepEqual((await readAll(store, {})).map((v) => v.value).sort((a, b) => a! - b!), [...Array(200).keys()]);
    const stations = await store.ott.stations();
    assert.equal(stations.reduce((sum, s) => sum + s.transmissions, 0), 200);
  });

  contractCase("a failing record does not fail the others in its batch", async (open) => {
    const batchSizes: number[] = [];
    const store = await open({ onCommit: (size) => batchSizes.push(size) });
    await store.ott.record(ottRecord("S1", "taken", minutes(0)));
    const results = await Promise.allSettled([
      store.ott.record(ottRecord("S1", "good-1", minutes(1), { values: [value("S1", "C1", minutes(1), 1)] })),
      store.ott.record(ottRecord("S1", "taken", minutes(2), { values: [value("S1", "C1", minutes(2), 2)] })),
      store.ott.record(ottRecord("S2", "good-2", minutes(3), { values: [value("S2", "C1", minutes(3), 3)] })),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.deepEqual(batchSizes, [1, 1, 1], "the failed batch of 3 was retried item by item");
    assert.deepEqual((await readAll(store, {})).map((v) => v.file), ["good-1", "good-2"]);
    assert.deepEqual(
      (await store.ott.stations()).map((s) => [s.stationId, s.transmissions]),
      [["S2", 1], ["S1", 2]],
      "the rejected record left no counter behind",
    );
  });

  contractCase("data survives close and reopen; migrations run once", async (open) => {
    const first = await open();
    await first.ott.record(ottRecord("S1", "kept", minutes(0), { values: [value("S1", "C1", minutes(0), 1.5)] }));
    await first.close();
    await first.close(); // closing twice is harmless
    await assert.rejects(first.ott.record(ottRecord("S1", "late", minutes(1))), /closed/);

    const reopened = await open();
    assert.deepEqual(await readAll(reopened, {}), [{ ...value("S1", "C1", minutes(0), 1.5), file: "kept" }]);
    await reopened.ott.record(ottRecord("S1", "after", minutes(1)));
    await reopened.close();
    const third = await open();
    assert.deepEqual((await third.ott.stations()).map((s) => s.transmissions), [2]);
  });

  contractCase("two stores opened at once on one new database both work", async (open) => {
    const [a, b] = await Promise.all([open(), open()]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => {
      const store = i % 2 === 0 ? a : b;
      return store.ott.record(ottRecord("S1", `both-${i}`, minutes(i), { values: [value("S1", "C1", minutes(i), i)] }));
    }));
    for (const store of [a, b]) {
      assert.equal((await readAll(store, {})).length, 20);
      assert.deepEqual((await store.ott.stations()).map((s) => s.transmissions), [20]);
    }
  });
}

function value(
  stationId: string,
  channelId: string,
  time: Date,
  measured: number | null,
  extra: Partial<OttValue> = {},
): OttValue {
  return {
    stationId,
    channelId,
    channelName: `channel ${channelId}`,
    unit: "m",
    time,
    value: measured,
    rawValue: String(measured),
    errorCode: null,
    errorText: null,
    ...extra,
  };
}

function ottAlarm(stationId: string, time: Date | null): OttAlarm {
  return { stationId, channelId: "0010", time, type: "limit high", message: "Wasserstand > 2,5 m ⚠" };
}

function ottRecord(
  stationId: string,
  file: string,
  receivedAt: Date,
  { values = [], alarm = null, parseError = null }: {
    values?: OttValue[];
    alarm?: OttAlarm | null;
    parseError?: string | null;
  } = {},
): OttRecord {
  return {
    transmission: {
      stationId,
      action: alarm ? "sendalarm" : "senddata",
      receivedAt,
      file,
      bytes: 8_192,
      user: "logger",
      remoteAddr: "192.0.2.7",
      parseError,
    },
    values,
    alarm,
  };
}

async function readAll(store: RecordStore, filter: OttValueFilter): Promise<StoredOttValue[]> {
  return await Array.fromAsync(store.ott.values(filter));
}
