import assert from "node:assert/strict";
import { connectDevice } from "../helpers/device_client.ts";
import { readFixture } from "../helpers/fixtures.ts";
import { basicAuth, startTestServer } from "../helpers/server.ts";

const packet = (id: number, extra: Record<string, unknown> = {}) => ({
  Id: id,
  timestamp: 1718036101,
  status: true,
  voltage: 231.4,
  freq: 50.02,
  ...extra,
});

Deno.test("a Go-style device sends the fixture over verified TLS and gets Thank you once it is stored", async () => {
  await using server = await startTestServer();
  using device = await connectDevice(server.meterPort!, server.caFile);
  const fixture = new TextDecoder().decode(await readFixture("meter-packet.ndjson"));
  await device.write(fixture.endsWith("\n") ? fixture : fixture + "\n");
  assert.equal(await device.readLine(), "Thank you");
  const readings = await (await server.fetch("/api/meters/987654/readings", { headers: basicAuth() })).json();
  assert.equal(readings.length, 1);
  assert.deepEqual({ ...readings[0], saved_at: undefined, id: undefined }, {
    pub_id: 987654,
    created_at: "2024-06-10T16:15:01.000Z",
    saved_at: undefined,
    id: undefined,
    voltage: 231.4,
    frequency: 50.02,
    protected: true,
  });
});

Deno.test("several packets on one connection, the last without newline before half-close", async () => {
  await using server = await startTestServer();
  using device = await connectDevice(server.meterPort!, server.caFile);
  await device.write(
    [1, 2, 3].map((i) => JSON.stringify(packet(42, { voltage: i }))).join("\n") + "\n" +
      JSON.stringify(packet(42, { voltage: 4 })),
  );
  await device.closeWrite();
  const replies = [];
  for (let line = await device.readLine(); line !== null; line = await device.readLine()) replies.push(line);
  assert.deepEqual(replies, ["Thank you", "Thank you", "Thank you", "Thank you"]);
  const csv = await (await server.fetch("/api/meters/42/readings?format=csv", { headers: basicAuth() })).text();
  assert.deepEqual(csv.trimEnd().split("\r\n").slice(1).map((line) => line.split(",")[4]), ["1", "2", "3", "4"]);
});

Deno.test("invalid packets get an error line naming the problem; the connection stays usable and nothing invalid is stored", async () => {
  await using server = await startTestServer();
  using device = await connectDevice(server.meterPort!, server.caFile);
  assert.match(await device.send("garbage"), /^error: invalid JSON: expected an object/);
  await device.write("{not json\n");
  assert.match((await device.readLine())!, /^error: invalid JSON/);
  assert.match(await device.send(packet(7, { voltage: -1 })), /^error: field "voltage" must not be negative/);
  assert.match(await device.send({ ...packet(7), Id: "7" }), /^error: field "id" must be an integer/);
  assert.equal(await device.send(packet(7)), "Thank you");
  const meters = await (await server.fetch("/api/meters", { headers: basicAuth() })).json();
  assert.deepEqual(meters.map((m: { pub_id: number; readings: number }) => [m.pub_id, m.readings]), [[7, 1]]);
});

Deno.test("reject mode refuses unknown pub ids with an error line and stores nothing", async () => {
  await using server = await startTestServer({ meter: { port: 0, hostname: "127.0.0.1", unknownPub: "reject" } });
  using device = await connectDevice(server.meterPort!, server.caFile);
  assert.equal(await device.send(packet(555)), "error: unknown pub id 555: provision the device first");
  const meters = await (await server.fetch("/api/meters", { headers: basicAuth() })).json();
  assert.deepEqual(meters, []);
});

Deno.test("1,000 concurrent devices each sending 10 packets: 10,000 Thank yous and 10,000 rows", async () => {
  await using server = await startTestServer();
  const devices = 1000;
  const perDevice = 10;
  const caFile = server.caFile;
  const replies = await Promise.all(Array.from({ length: devices }, async (_, d) => {
    using device = await connectDevice(server.meterPort!, caFile);
    const lines = Array.from({ length: perDevice }, (_, i) => JSON.stringify(packet(1000 + d, { voltage: i })) + "\n");
    await device.write(lines.join(""));
    const got = [];
    for (let i = 0; i < perDevice; i++) got.push(await device.readLine());
    return got;
  }));
  assert.equal(replies.flat().filter((reply) => reply === "Thank you").length, devices * perDevice);
  const meters = await server.records.meters.meters();
  assert.equal(meters.length, devices);
  assert.equal(meters.reduce((sum, meter) => sum + meter.readings, 0), devices * perDevice);
});

Deno.test("meters and their latest reading appear on the status page", async () => {
  await using server = await startTestServer();
  using device = await connectDevice(server.meterPort!, server.caFile);
  assert.equal(await device.send(packet(31337, { voltage: 229.9 })), "Thank you");
  const html = await (await server.fetch("/server-status?format=html", { headers: basicAuth() })).text();
  assert.match(html, /<td>31337<\/td>/);
  assert.match(html, /229\.9/);
});
