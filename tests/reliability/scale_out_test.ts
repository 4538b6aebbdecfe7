/**
 * Scale-out: two fieldgate instances on one PostgreSQL database and one data
 * directory behind HAProxy (Debian's). Meters connect to HAProxy over TLS,
 * which ends it and opens each connection to an instance's meter socket (proxy
 * mode) with a PROXY v2 header; OTT loggers' HTTPS passes through to either
 * instance. Both instances serve; kill -9 of one mid-load loses nothing
 * acknowledged, and the clients carry on through the other.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config.ts";
import { openRecordStore } from "../../storage/open.ts";
import { firstCommand, freePort, startDaemon } from "../helpers/daemon.ts";
import { connectDevice, type DeviceClient } from "../helpers/device_client.ts";
import { filesUnder, ottTransmission, postTransmission, type SentTransmission } from "../helpers/ott_transmission.ts";
import { createTestDatabase } from "../helpers/postgres.ts";
import { type ChildServer, spawnServer, writeUsersFile } from "../helpers/server.ts";

const METERS = 12;
const LOGGERS = 6;
/** Each meter connection sends this many packets, then reconnects, so connections keep spreading over both. */
const PACKETS_PER_CONNECTION = 25;
const SECONDS_BEFORE_KILL = 3;
const SECONDS_AFTER_KILL = 3;

Deno.test("two instances behind HAProxy share the load; kill -9 of one loses nothing acknowledged", async () => {
  const haproxy = await firstCommand(["haproxy"], ["-v"]);
  assert.ok(haproxy, "haproxy is not installed: apt-get install -y haproxy (.ci/run does)");
  const database = await createTestDatabase();
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-scale-out-" });
  await writeUsersFile(dataDir);
  const args = ["--database-url", database.url, "--meter-mode", "proxy", "--confo-enabled", "false"];
  const instances: ChildServer[] = [];
  try {
    instances.push(await spawnServer(dataDir, args));
    instances.push(await spawnServer(dataDir, args));
    const [a, b] = instances;
    const caFile = join(dataDir, "certs", "dev-cert.pem");
    const ports = { meter: freePort(), https: freePort() };
    await using _balancer = await startBalancer(haproxy!, dataDir, ports, [a, b]);

    let stopping = false;
    let nextVoltage = 0;
    let nextSeq = 0;
    const readings = new Map<number, number>();
    const transmissions: SentTransmission[] = [];
    const meter = async (pubId: number) => {
      while (!stopping) {
        let device: DeviceClient | undefined;
        try {
          device = await connectDevice(ports.meter, caFile);
          for (let sent = 0; sent < PACKETS_PER_CONNECTION && !stopping; sent++) {
            const voltage = ++nextVoltage;
            if (await device.send({ Id: pubId, status: true, voltage, freq: 50 }) !== "Thank you") break;
            readings.set(voltage, pubId);
          }
          await device.closeWrite();
          while (await device.readLine() !== null) { /* until the instance closes its side */ }
        } catch {
          // The instance died under this connection: the packet in flight was never acknowledged.
          await new Promise((resolve) => setTimeout(resolve, 50));
        } finally {
          device?.close();
        }
      }
    };
    const logger = async (station: string) => {
      while (!stopping) {
        // A connection per post (as loggers do between transmissions), so posts spread over both instances.
        const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
        const item = ottTransmission(station, nextSeq++);
        try {
          if (await postTransmission(`https://localhost:${ports.https}`, item, client)) transmissions.push(item);
          else await new Promise((resolve) => setTimeout(resolve, 50));
        } finally {
          client.close();
        }
      }
    };
    const clients = [
      ...Array.from({ length: METERS }, (_, i) => meter(500 + i)),
      ...Array.from({ length: LOGGERS }, (_, i) => logger(`S${i}`)),
    ];

    await sleep(SECONDS_BEFORE_KILL * 1000);
    const beforeKill = { readings: readings.size, transmissions: transmissions.length };
    a.process.kill("SIGKILL");
    await a.exited;
    await sleep(SECONDS_AFTER_KILL * 1000);
    stopping = true;
    await Promise.all(clients);
    const afterKill = {
      readings: readings.size - beforeKill.readings,
      transmissions: transmissions.length - beforeKill.transmissions,
    };
    console.log(
      `acknowledged: ${readings.size} readings, ${transmissions.length} transmissions ` +
        `(${afterKill.readings} readings and ${afterKill.transmissions} ` +
        `transmissions after the kill -9 of one instance)`,
    );

    for (const [name, server] of [["A", a], ["B", b]] as const) {
      const served = servedBy(server);
      console.log(
        `instance ${name}: ${served.meterPackets} meter packets in closed connections, ${served.posts} posts`,
      );
      assert.ok(served.meterPackets > 0, `instance ${name} received meter packets`);
      assert.ok(served.posts > 0, `instance ${name} received OTT posts`);
    }
    assert.ok(afterKill.readings > 0, "meters carried on through the surviving instance");
    assert.ok(afterKill.transmissions > 0, "loggers carried on through the surviving instance");

    const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: database.url } }));
    try {
      const stored = new Map<number, number>();
      for (let index = 0; index < METERS; index++) {
        for await (const reading of store.meters.readings(500 + index, {})) {
          assert.ok(!stored.has(reading.voltage), `reading ${reading.voltage} stored once`);
          stored.set(reading.voltage, reading.pubId);
        }
      }
      for (const [voltage, pubId] of readings) assert.equal(stored.get(voltage), pubId, `acknowledged ${voltage}`);
      const files = new Set(
        await Promise.all((await filesUnder(join(dataDir, "ott"))).map((file) => Deno.readTextFile(file))),
      );
      for (const item of transmissions) {
        assert.ok(files.has(item.body), `acknowledged transmission on disk: ${item.station} ${item.time}`);
        const values = await Array.fromAsync(store.ott.values({ stationId: item.station }));
        assert.ok(
          values.some((value) => value.time.toISOString().startsWith(item.time) && value.value === item.value),
          `acknowledged value in the database: ${item.station} ${item.time}`,
        );
      }
    } finally {
      await store.close();
    }
  } finally {
    for (const server of instances) {
      try {
        server.process.kill("SIGTERM");
      } catch {
        // Already killed by the test.
      }
      await server.exited;
    }
    await database.drop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** HAProxy: TLS ended for meters (PROXY v2 to each instance), HTTPS passed through; dead servers skipped. */
async function startBalancer(
  haproxy: string,
  dataDir: string,
  ports: { meter: number; https: number },
  instances: ChildServer[],
): Promise<AsyncDisposable> {
  const pem = join(dataDir, "haproxy.pem");
  const certs = join(dataDir, "certs");
  await Deno.writeTextFile(
    pem,
    await Deno.readTextFile(join(certs, "dev-cert.pem")) + await Deno.readTextFile(join(certs, "dev-key.pem")),
  );
  const servers = (port: (server: ChildServer) => number, options: string) =>
    instances.map((server, index) => `    server i${index} 127.0.0.1:${port(server)} ${options}`).join("\n");
  const config = `
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch

frontend meter
    bind 127.0.0.1:${ports.meter} ssl crt ${pem}
    default_backend meters

backend meters
    balance roundrobin
${servers((server) => server.meterPort, "send-proxy-v2 check check-send-proxy inter 200ms fall 1 rise 2")}

frontend https
    bind 127.0.0.1:${ports.https}
    default_backend https

backend https
    balance roundrobin
${servers((server) => Number(new URL(server.httpsUrl).port), "check inter 200ms fall 1 rise 2")}
`;
  const configFile = join(dataDir, "haproxy.cfg");
  await Deno.writeTextFile(configFile, config);
  return await startDaemon(haproxy, ["-db", "-f", configFile], () => false, ports.https);
}

/** Meter packets in connections the instance logged as closed, and OTT posts it answered, from its JSON log. */
function servedBy(server: ChildServer): { meterPackets: number; posts: number } {
  let meterPackets = 0;
  let posts = 0;
  for (const line of server.output) {
    let properties: Record<string, unknown>;
    try {
      properties = JSON.parse(line).properties ?? {};
    } catch {
      continue;
    }
    if (properties.name === "meter" && typeof properties.lines === "number") meterPackets += properties.lines;
    if (properties.path === "/ottt" && properties.status === 200) posts++;
  }
  return { meterPackets, posts };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
