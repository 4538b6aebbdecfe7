/**
 * kill -9 while 50 meters stream packets and 5 devices send confos: after a
 * restart, every reading that got its "Thank you" is in the database exactly
 * once, and every acknowledged confo can be read back.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config.ts";
import { openRecordStore } from "../../storage/open.ts";
import { crashRounds } from "../helpers/crash_rounds.ts";
import { connectDevice } from "../helpers/device_client.ts";
import { writeUsersFile } from "../helpers/server.ts";

const METERS = 50;
const CONFO_DEVICES = 5;

Deno.test("kill -9 during streaming meters and confos loses no acknowledged reading or confirmation", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-meter-crash-" });
  await writeUsersFile(dataDir);
  const caFile = join(dataDir, "certs", "dev-cert.pem");
  // Each reading's voltage and each confo's hash is unique, so it identifies the packet after the restart.
  const readings = new Map<number, number>();
  const confos = new Map<number, string>();
  let sequence = 0;

  await crashRounds(dataDir, 3, ({ server, killed, acknowledged }) => {
    const meter = async (pubId: number) => {
      try {
        using device = await connectDevice(server.meterPort, caFile);
        while (!killed()) {
          const voltage = ++sequence;
          if (await device.send({ Id: pubId, status: true, voltage, freq: 50 }) !== "Thank you") break;
          readings.set(voltage, pubId);
          acknowledged();
        }
      } catch {
        // the server died under us: the packet in flight was never acknowledged
      }
    };
    const confoDevice = async (index: number) => {
      try {
        using device = await connectDevice(server.confoPort, caFile);
        while (!killed()) {
          const hash = ++sequence;
          const deviceName = `crash-${index}-${hash}`;
          if (await device.send({ deviceName, ssid: "lab", hash }) !== "Thank you") break;
          confos.set(hash, deviceName);
          acknowledged();
        }
      } catch {
        // as above
      }
    };
    return [
      ...Array.from({ length: METERS }, (_, i) => meter(100 + i)),
      ...Array.from({ length: CONFO_DEVICES }, (_, i) => confoDevice(i)),
    ];
  });

  const store = await openRecordStore(loadConfig({ overrides: { dataDir } }));
  try {
    const stored = new Map<number, number>();
    for (let index = 0; index < METERS; index++) {
      for await (const reading of store.meters.readings(100 + index, {})) {
        assert.ok(!stored.has(reading.voltage), `reading ${reading.voltage} stored once`);
        stored.set(reading.voltage, reading.pubId);
      }
    }
    for (const [voltage, pubId] of readings) {
      assert.equal(stored.get(voltage), pubId, `acknowledged reading ${voltage} of pub ${pubId} is stored`);
    }
    assert.ok(confos.size > 0, "some confos were acknowledged");
    for (const [hash, deviceName] of confos) {
      assert.equal((await store.confo.latest(deviceName, "lab"))?.hash, hash, `acknowledged confo ${deviceName}`);
    }
  } finally {
    await store.close();
  }
  await Deno.remove(dataDir, { recursive: true });
});
