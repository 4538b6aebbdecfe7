/**
 * kill -9 while 50 meters stream packets: after a restart, every reading that
 * got its "Thank you" is in the database, exactly once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config.ts";
import { openRecordStore } from "../../storage/open.ts";
import { connectDevice } from "../helpers/device_client.ts";
import { spawnServer, writeUsersFile } from "../helpers/server.ts";

const DEVICES = 50;
const ROUNDS = 3;

Deno.test("kill -9 during 50 streaming meters loses no acknowledged reading", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-meter-crash-" });
  await writeUsersFile(dataDir);
  const caFile = join(dataDir, "certs", "dev-cert.pem");
  // Each reading's voltage is unique, so it identifies the packet after the restart.
  const acknowledged = new Map<number, number>();
  let sequence = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const server = await spawnServer(dataDir);
    let killed = false;
    let firstAck: () => void;
    const acknowledgedOnce = new Promise<void>((resolve) => firstAck = resolve);
    const before = acknowledged.size;
    const meter = async (index: number) => {
      const pubId = 100 + index;
      try {
        using device = await connectDevice(server.meterPort, caFile);
        while (!killed) {
          const voltage = ++sequence;
          const reply = await device.send({ Id: pubId, status: true, voltage, freq: 50 });
          if (reply !== "Thank you") break;
          acknowledged.set(voltage, pubId);
          firstAck();
        }
      } catch {
        // the server died under us: the packet in flight was never acknowledged
      }
    };
    const meters = Array.from({ length: DEVICES }, (_, i) => meter(i));
    const noAck = setTimeout(() => firstAck(), 30_000);
    await acknowledgedOnce;
    clearTimeout(noAck);
    assert.ok(acknowledged.size > before, `round ${round + 1}: no reading acknowledged within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
    server.process.kill("SIGKILL");
    killed = true;
    await server.exited;
    await Promise.all(meters);
    console.log(`round ${round + 1}: ${acknowledged.size} readings acknowledged so far`);
  }

  const store = await openRecordStore(loadConfig({ overrides: { dataDir } }));
  try {
    const stored = new Map<number, number>();
    for (let index = 0; index < DEVICES; index++) {
      for await (const reading of store.meters.readings(100 + index, {})) {
        assert.ok(!stored.has(reading.voltage), `reading ${reading.voltage} stored once`);
        stored.set(reading.voltage, reading.pubId);
      }
    }
    for (const [voltage, pubId] of acknowledged) {
      assert.equal(stored.get(voltage), pubId, `acknowledged reading ${voltage} of pub ${pubId} is stored`);
    }
  } finally {
    await store.close();
  }
  await Deno.remove(dataDir, { recursive: true });
});
