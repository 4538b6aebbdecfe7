import assert from "node:assert/strict";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { fixturePath, readFixture } from "../helpers/fixtures.ts";
import { basicAuth, LOGGER, startTestServer, type TestServer } from "../helpers/server.ts";

const SENDDATA = "/ottt?stationid=0000452891&action=senddata";

/** Every file below `dir`, relative, sorted. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(dir, prefix))) {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory) found.push(...await filesUnder(dir, path));
      else found.push(path);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.sort();
}

function post(server: TestServer, path: string, body: BodyInit, headers: HeadersInit = basicAuth()) {
  return server.fetch(path, { method: "POST", body, headers });
}

Deno.test("curl posts the ISO-8859-1 fixture over HTTPS: identical bytes on disk, rows stored, XML response", async () => {
  await using server = await startTestServer();
  const result = await new Deno.Command("curl", {
    args: [
      "-sS",
      "--cacert",
      server.caFile,
      "-u",
      `${LOGGER.user}:${LOGGER.password}`,
      "-H",
      "Content-Type: application/xml",
      "--data-binary",
      `@${fixturePath("ott-senddata.xml")}`,
      "-w",
      "\n%{http_code} %{content_type}",
      `${server.httpsUrl.replace("127.0.0.1", "localhost")}${SENDDATA}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(result.stdout);
  assert.ok(result.success, new TextDecoder().decode(result.stderr));
  const [xml, status] = stdout.split("\n");
  assert.equal(status, "200 application/xml; charset=utf-8");
  const response = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml).Response;
  assert.equal(response.stationId, "0000452891");
  assert.ok(Math.abs(Date.parse(response.responseDateTime + "Z") - Date.now()) < 60_000);

  const files = await filesUnder(join(server.dataDir, "ott"));
  assert.equal(files.length, 1);
  assert.match(files[0], /^senddata\/\d{4}\/\d{2}\/\d{2}\/0000452891_\d{4}-\d{2}-\d{2}T\d{2}\+\d{2}\+\d{2}\.\d{6}$/);
  assert.deepEqual(await Deno.readFile(join(server.dataDir, "ott", files[0])), await readFixture("ott-senddata.xml"));

  const values = await (await server.fetch("/api/ott/values?station=0000452891", { headers: basicAuth() })).json();
  assert.equal(values.length, 6);
  assert.deepEqual(values.find((v: { error_code: string | null }) => v.error_code !== null), {
    station_id: "0000452891",
    channel_id: "0002",
    channel_name: "Wassertemperatur",
    unit: "°C",
    time: "2024-03-05T10:15:00.000Z",
    value: 0,
    raw_value: "0",
    error_code: "5",
    error_text: "Sensor getrennt",
    file: files[0],
  });
});

Deno.test("fetch to /ott/ is accepted like /ottt", async () => {
  await using server = await startTestServer();
  const response = await post(server, "/ott/?stationid=dl_7&action=senddata", await readFixture("ott-senddata.xml"));
  assert.equal(response.status, 200);
  assert.match(await response.text(), /<Response stationId="dl_7" responseDateTime="[\d-]+T[\d:]+" \/>/);
});

Deno.test("missing or wrong credentials get 401 with a Basic challenge and nothing is stored", async () => {
  await using server = await startTestServer();
  for (const headers of [{}, basicAuth(LOGGER.user, "wrong"), basicAuth("nobody", LOGGER.password)]) {
    const response = await post(server, SENDDATA, "<StationDataList/>", headers);
    assert.equal(response.status, 401);
    assert.match(response.headers.get("www-authenticate") ?? "", /^Basic realm="fieldgate"/);
    await response.body?.cancel();
  }
  assert.deepEqual(await filesUnder(join(server.dataDir, "ott")), []);
});

Deno.test("bad stationid or action → 400 and nothing written", async () => {
  await using server = await startTestServer();
  for (
    const query of [
      "action=senddata",
      "stationid=../../etc&action=senddata",
      "stationid=a%2Fb&action=senddata",
      "stationid=1&action=wipe",
      "stationid=1",
    ]
  ) {
    const response = await post(server, `/ottt?${query}`, await readFixture("ott-senddata.xml"));
    assert.equal(response.status, 400, query);
    assert.match(await response.text(), /nothing was stored/);
  }
  assert.deepEqual(await filesUnder(join(server.dataDir, "ott")), []);
});

Deno.test("a body over the limit gets 413 and nothing is written", async () => {
  await using server = await startTestServer({ ott: { maxBodyBytes: 1024 } });
  const response = await post(server, SENDDATA, "x".repeat(2048));
  assert.equal(response.status, 413);
  await response.body?.cancel();
  const chunked = await post(
    server,
    SENDDATA,
    ReadableStream.from([new Uint8Array(800), new Uint8Array(800)]),
  );
  assert.equal(chunked.status, 413, "a chunked body without Content-Length is limited too");
  await chunked.body?.cancel();
  assert.deepEqual(await filesUnder(join(server.dataDir, "ott")), []);
});

Deno.test("wrong method → 405 with Allow: POST", async () => {
  await using server = await startTestServer();
  const response = await server.fetch(SENDDATA);
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "POST");
  await response.body?.cancel();
});

Deno.test("invalid XML → 400 naming the problem, raw body kept in quarantine byte for byte", async () => {
  await using server = await startTestServer();
  const body = new Uint8Array([...new TextEncoder().encode("<StationDataList><StationData stationId='1'>"), 0xb0]);
  const response = await post(server, SENDDATA, body);
  assert.equal(response.status, 400);
  const message = await response.text();
  assert.match(message, /invalid OTT XML: .*quarantine/);
  const files = await filesUnder(join(server.dataDir, "ott"));
  assert.equal(files.length, 1);
  assert.match(files[0], /^quarantine\/senddata\//);
  assert.deepEqual(await Deno.readFile(join(server.dataDir, "ott", files[0])), body);
  const stations = await server.records.ott.stations();
  assert.equal(stations[0].transmissions, 1, "the refused transmission is still counted");
});

Deno.test("sendalarm is stored, shown on the status page and sent to the alarm hook", async () => {
  const received: unknown[] = [];
  const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    received.push(await request.json());
    return new Response("ok");
  });
  try {
    await using server = await startTestServer({ ott: { alarmHookUrl: `http://127.0.0.1:${hook.addr.port}/alarm` } });
    const response = await post(
      server,
      "/ottt?stationid=0000452891&action=sendalarm",
      await readFixture("ott-sendalarm.xml"),
    );
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const files = await filesUnder(join(server.dataDir, "ott"));
    assert.equal(files.length, 1);
    assert.match(files[0], /^sendalarm\//);
    for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(received, [{
      event: "ott.alarm",
      stationId: "0000452891",
      channelId: "0001",
      time: "2024-03-05T10:45:00.000Z",
      type: "limit",
      message: "Stage 1.93 m above limit 1.80 m",
      file: files[0],
    }]);
    const page = await server.fetch("/server-status", { headers: { ...basicAuth(), accept: "text/html" } });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Stage 1.93 m above limit 1.80 m/);
    assert.match(html, /healthy/);
  } finally {
    await hook.shutdown();
  }
});

Deno.test("50 concurrent loggers: every transmission stored with its own file and rows", async () => {
  await using server = await startTestServer();
  const template = new TextDecoder().decode(await readFixture("ott-senddata.xml"));
  const bodies = Array.from({ length: 50 }, (_, i) => template.replace("0.842", `${i}.5`));
  const responses = await Promise.all(
    bodies.map((body, i) => post(server, `/ottt?stationid=logger${i % 5}&action=senddata`, body)),
  );
  for (const response of responses) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const files = await filesUnder(join(server.dataDir, "ott", "senddata"));
  assert.equal(files.length, 50);
  const stored = await Promise.all(files.map((f) => Deno.readTextFile(join(server.dataDir, "ott", "senddata", f))));
  assert.deepEqual(stored.sort(), [...bodies].sort());
  const stations = await server.records.ott.stations();
  assert.deepEqual(stations.map((s) => s.transmissions).sort(), [10, 10, 10, 10, 10]);
});

Deno.test("values API streams CSV with filters", async () => {
  await using server = await startTestServer();
  await (await post(server, SENDDATA, await readFixture("ott-senddata.xml"))).body?.cancel();
  const response = await server.fetch(
    "/api/ott/values?station=0000452891&channel=0002&from=2024-03-05T10:15:00Z&format=csv",
    { headers: basicAuth() },
  );
  assert.equal(response.headers.get("content-type"), "text/csv; charset=utf-8");
  const lines = (await response.text()).trimEnd().split("\r\n");
  assert.equal(lines[0], "station_id,channel_id,channel_name,unit,time,value,raw_value,error_code,error_text,file");
  assert.equal(lines.length, 3);
  assert.match(
    lines[1],
    /^0000452891,0002,Wassertemperatur,°C,2024-03-05T10:15:00.000Z,0,0,5,Sensor getrennt,senddata\//,
  );
  const bad = await server.fetch("/api/ott/values?from=yesterday", { headers: basicAuth() });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /from: not a date/);
  const anonymous = await server.fetch("/api/ott/values");
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
});

Deno.test("ping is public; server-status needs a login and reports storage, disk and certificate", async () => {
  await using server = await startTestServer();
  assert.equal(await (await server.fetch("/ping")).text(), "pong");
  const anonymous = await server.fetch("/server-status");
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  const status = await (await server.fetch("/server-status", { headers: basicAuth() })).json();
  assert.equal(status.healthy, true);
  assert.equal(status.storage.backend, "sqlite");
  assert.ok(status.disk.freeBytes > 0);
  assert.ok(status.certificate.daysLeft > 300);
  assert.match(status.certificate.subject, /fieldgate development certificate/);
});

Deno.test("plain HTTP answers on localhost too", async () => {
  await using server = await startTestServer();
  assert.ok(server.httpUrl?.startsWith("http://127.0.0.1:"));
  assert.equal(await (await fetch(`${server.httpUrl}/ping`)).text(), "pong");
});

Deno.test("repeated wrong passwords from one IP get 429 with Retry-After, even with the right password", async () => {
  await using server = await startTestServer({ auth: { maxFailures: 3 } });
  for (let i = 0; i < 3; i++) {
    await (await post(server, SENDDATA, "<a/>", basicAuth(LOGGER.user, `guess${i}`))).body?.cancel();
  }
  const locked = await post(server, SENDDATA, "<a/>");
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers.get("retry-after")) >= 1);
  await locked.body?.cancel();
});
