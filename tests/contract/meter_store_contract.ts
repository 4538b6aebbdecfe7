/**
 * The meter part of the record store contract: readings through group commit,
 * pub registration and refusal, listing meters and paging readings.
 */
import assert from "node:assert/strict";
import {
  type MeterReading,
  type MeterReadingFilter,
  type RecordStore,
  type StoredMeterReading,
  UnknownPubError,
} from "../../storage/types.ts";
import { contractCases, type ContractDatabase } from "./harness.ts";

const BASE_TIME = Date.UTC(2024, 2, 5, 10, 0, 0, 123);
const minutes = (n: number) => new Date(BASE_TIME + n * 60_000);
const REGISTER = { registerPub: true };
const REJECT = { registerPub: false };

/**
 * Registers the meter contract cases for one adapter, named `<name> contract: meters: …`.
 * `idsInArrivalOrder`: the adapter commits one batch after the other, so ids ascend in the order appends
 * were made; an adapter with batches committing side by side only promises distinct ids.
 */
export function meterStoreContract(
  name: string,
  freshDatabase: () => Promise<ContractDatabase>,
  { idsInArrivalOrder }: { idsInArrivalOrder: boolean },
): void {
  const contractCase = contractCases(name, freshDatabase);

  contractCase("meters: reads back exact readings with their ids", async (open) => {
    const store = await open();
    const readings = [
      reading(7, minutes(0), 230.1, 50.02, { protected: true }),
      reading(7, minutes(1), 0.1 + 0.2, 49.999999999999, { savedAt: new Date(BASE_TIME + 1) }),
      reading(7, minutes(2), 1.7976931348623157e308, 5e-324),
      reading(7, new Date(BASE_TIME + 61_001), 0, 0, { protected: true }),
    ];
    const ids: number[] = [];
    for (const r of readings) ids.push(await store.meters.append(r, REGISTER));
    const expected = readings.map((r, i) => ({ ...r, id: ids[i] }))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id);
    assert.deepEqual(await readAll(store, 7, {}), expected);
    assert.deepEqual(await store.meters.meters(), [
      { pubId: 7, deviceName: null, hash: null, creator: null, readings: 4, latest: expected[3] },
    ]);
  });

  contractCase("meters: registerPub creates the pub; pubExists answers", async (open) => {
    const store = await open();
    assert.equal(await store.meters.pubExists(42), false);
    assert.equal(await store.meters.pubExists(42), false, "a negative answer is asked again, not cached");
    await store.meters.append(reading(42, minutes(0), 1, 50), REGISTER);
    assert.equal(await store.meters.pubExists(42), true);
    await store.meters.append(reading(42, minutes(1), 2, 50), REJECT); // now known: accepted
    // A second store on the same database learns of the pub from the database, not its cache.
    const other = await open();
    assert.equal(await other.meters.pubExists(42), true);
    await other.meters.append(reading(42, minutes(2), 3, 50), REJECT);
    assert.deepEqual((await store.meters.meters()).map((m) => [m.pubId, m.readings]), [[42, 3]]);
  });

  contractCase("meters: an unknown pub fails only its own caller in a concurrent burst", async (open) => {
    const batchSizes: number[] = [];
    const store = await open({ onCommit: (size) => batchSizes.push(size) });
    await store.meters.append(reading(1, minutes(0), 1, 50), REGISTER);
    batchSizes.length = 0;
    const burst = [
      ...Array.from({ length: 10 }, (_, i) => store.meters.append(reading(1, minutes(i + 1), i, 50), REJECT)),
      store.meters.append(reading(99, minutes(0), 99, 50), REJECT),
      ...Array.from({ length: 5 }, (_, i) => store.meters.append(reading(2, minutes(i), i, 50), REGISTER)),
      store.meters.append(reading(98, minutes(0), 98, 50), REJECT),
    ];
    const results = await Promise.allSettled(burst);
    const rejected = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    assert.equal(rejected.length, 2);
    for (const [i, reason] of rejected.entries()) {
      assert.ok(reason instanceof UnknownPubError, String(reason));
      assert.equal(reason.pubId, [99, 98][i]);
    }
    assert.deepEqual(results.map((r) => r.status === "fulfilled"), burst.map((_, i) => i !== 10 && i !== 16));
    assert.deepEqual(batchSizes, [17], "one commit: the refusals did not fail the batch");
    assert.equal(await store.meters.pubExists(99), false);
    assert.deepEqual((await store.meters.meters()).map((m) => [m.pubId, m.readings]), [[1, 11], [2, 5]]);
    await assert.rejects(store.meters.append(reading(99, minutes(1), 1, 50), REJECT), UnknownPubError);
  });

  contractCase("meters: 2,000 concurrent appends share few commits and get distinct ids", async (open) => {
    const batchSizes: number[] = [];
    const store = await open({ onCommit: (size) => batchSizes.push(size) });
    const count = 2_000;
    const started = performance.now();
    const ids = await Promise.all(
      Array.from(
        { length: count },
        (_, i) =>
          store.meters.append(reading(1 + (i % 20), minutes(i), i, 50 + i / 1e4, { protected: i % 2 === 0 }), REGISTER),
      ),
    );
    const elapsed = performance.now() - started;
    console.log(
      `${name}: ${count} concurrent appends in ${batchSizes.length} commit(s) (${batchSizes.join(", ")}), ` +
        `${elapsed.toFixed(0)} ms from first append to last id ≈ ${Math.round(count / elapsed * 1000)} readings/s`,
    );
    assert.equal(batchSizes.reduce((sum, size) => sum + size, 0), count);
    assert.ok(
      batchSizes.length <= 20,
      `${batchSizes.length} commits for ${count} readings: group commit is not batching`,
    );
    assert.equal(new Set(ids).size, count, "every reading has an id of its own");
    for (let i = 1; i < count && idsInArrivalOrder; i++) {
      assert.ok(ids[i] > ids[i - 1], `ids not ascending at ${i}: ${ids.slice(i - 1, i + 1)}`);
    }
    // Every caller got the id of its own reading (the voltage is the caller's index).
    const stored = (await Promise.all(
      Array.from({ length: 20 }, (_, pub) => readAll(store, pub + 1, {})),
    )).flat();
    assert.equal(stored.length, count);
    for (const r of stored) assert.equal(r.id, ids[r.voltage], `reading ${r.voltage} stored under another id`);
    const meters = await store.meters.meters();
    assert.deepEqual(meters.map((m) => m.readings), Array(20).fill(count / 20));
    assert.deepEqual(meters.map((m) => m.latest?.voltage), Array.from({ length: 20 }, (_, pub) => count - 20 + pub));
  });

  contractCase("meters: streams more than 2,500 readings across keyset pages", async (open) => {
    const store = await open({ maxBatch: 1_000 });
    // Three readings per minute, inserted newest minute first, so id order is not time order and
    // page boundaries (every 1,000 rows) fall inside groups of equal createdAt.
    await Promise.all(Array.from({ length: 2_700 }, (_, i) => {
      const minute = 899 - Math.floor(i / 3);
      return store.meters.append(reading(5, minutes(minute), i, 50), REGISTER);
    }));
    await store.meters.append(reading(6, minutes(10), 0, 50), REGISTER); // another pub never shows up
    const all = await readAll(store, 5, {});
    assert.equal(all.length, 2_700);
    assert.equal(new Set(all.map((r) => r.id)).size, 2_700, "no row repeated at a page boundary");
    const sorted = [...all].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id);
    assert.deepEqual(all, sorted);

    const bounded = await readAll(store, 5, { from: minutes(100), to: minutes(800) });
    assert.deepEqual(bounded, all.filter((r) => r.createdAt >= minutes(100) && r.createdAt < minutes(800)));
    assert.equal(bounded.length, 3 * 700, "from is inclusive, to exclusive");
    assert.deepEqual(await readAll(store, 5, { limit: 2_345 }), all.slice(0, 2_345));
    assert.deepEqual(await readAll(store, 5, { from: minutes(899), limit: 2 }), all.slice(-3, -1));
    assert.deepEqual(await readAll(store, 5, { limit: 0 }), []);
    assert.deepEqual(await readAll(store, 5, { from: minutes(5), to: minutes(5) }), []);
    assert.deepEqual(await readAll(store, 404, {}), []);
    await assert.rejects(readAll(store, 5, { limit: -1 }), RangeError);
  });

  contractCase("meters: lists every pub with its count and newest reading", async (open, inspect) => {
    const store = await open();
    const ids = new Map<string, number>();
    const append = async (label: string, r: MeterReading) => ids.set(label, await store.meters.append(r, REGISTER));
    await append("1-newest", reading(1, minutes(10), 1, 50));
    await append("1-older", reading(1, minutes(5), 2, 50)); // arrives later, yet older
    await append("2-first", reading(2, minutes(3), 3, 50));
    await append("2-tie", reading(2, minutes(3), 4, 50)); // same createdAt: the higher id is newer
    // A pub created by a confirmation has no readings yet.
    await store.confo.confirm(
      { deviceName: "meter-9", ssid: "home", hash: 9, email: null, timestamp: minutes(0) },
      minutes(0),
      () => ({ table: "confo", pub: "create", saveUnregisteredEmail: false }),
    );
    const meters = await store.meters.meters();
    assert.deepEqual(meters.map((m) => [m.pubId, m.deviceName, m.hash, m.readings, m.latest?.id ?? null]), [
      [1, null, null, 2, ids.get("1-newest")],
      [2, null, null, 2, ids.get("2-tie")],
      [9, "meter-9", 9, 0, null],
    ]);
    assert.deepEqual(meters[1].latest, { ...reading(2, minutes(3), 4, 50), id: ids.get("2-tie") });
    const [{ n }] = await inspect("SELECT count(*) AS n FROM meter_readings");
    assert.equal(Number(n), 4);
  });

  contractCase("meters: readings survive close and reopen; appends after close are refused", async (open) => {
    const first = await open();
    const id = await first.meters.append(reading(3, minutes(0), 229.5, 50), REGISTER);
    await first.close();
    await assert.rejects(first.meters.append(reading(3, minutes(1), 1, 50), REGISTER), /closed/);
    const reopened = await open();
    assert.equal(await reopened.meters.pubExists(3), true);
    assert.deepEqual(await readAll(reopened, 3, {}), [{ ...reading(3, minutes(0), 229.5, 50), id }]);
    const next = await reopened.meters.append(reading(3, minutes(1), 230, 50), REJECT);
    assert.ok(next > id);
  });
}

function reading(
  pubId: number,
  createdAt: Date,
  voltage: number,
  frequency: number,
  extra: Partial<MeterReading> = {},
): MeterReading {
  return { pubId, createdAt, savedAt: minutes(1_000), voltage, frequency, protected: false, ...extra };
}

async function readAll(store: RecordStore, pubId: number, filter: MeterReadingFilter): Promise<StoredMeterReading[]> {
  return await Array.fromAsync(store.meters.readings(pubId, filter));
}
