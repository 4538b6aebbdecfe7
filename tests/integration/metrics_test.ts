/**
 * `/metrics` after real traffic on every protocol (OTT, meter, confo, CMX, tus): it demands credentials (basic auth or the
 * configured bearer token), its text parses as Prometheus exposition format
 * with the official client's parser, and the figures match what was sent and
 * what the system reports.
 */
import assert from "node:assert/strict";
import { statfs } from "node:fs/promises";
import { connectDevice } from "../helpers/device_client.ts";
import { readFixture } from "../helpers/fixtures.ts";
import { parsePrometheus, sampleValue } from "../helpers/prometheus.ts";
import { postNotifications, startCmxServer } from "../helpers/cmx_client.ts";
import { createProject, createUpload, patch, testBytes } from "../helpers/dropoff.ts";
import { basicAuth } from "../helpers/server.ts";

const TOKEN = "prometheus-scrape-secret";

Deno.test("/metrics needs credentials and reports traffic, certificate, disk and database", async () => {
  await using server = await startCmxServer({ metrics: { token: TOKEN } });
  const scrape = async (headers: Record<string, string>) => {
    const response = await server.fetch("/metrics", { headers });
    return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
  };
  assert.equal((await scrape({})).status, 401);
  assert.equal((await scrape({ authorization: "Bearer wrong" })).status, 401);
  assert.equal((await scrape(basicAuth("dl001", "wrong"))).status, 401);

  const body = await readFixture("ott-senddata.xml");
  for (let i = 0; i < 2; i++) {
    const response = await server.fetch("/ottt?stationid=0000452891&action=senddata", {
      method: "POST",
      headers: basicAuth(),
      body,
    });
    assert.equal(response.status, 200, await response.text());
  }
  {
    using device = await connectDevice(server.meterPort!, server.caFile);
    for (let i = 0; i < 3; i++) {
      assert.equal(await device.send({ Id: 77, status: true, voltage: 230, freq: 50 }), "Thank you");
    }
  }
  {
    using device = await connectDevice(server.confoPort!, server.caFile);
    const confo = new TextDecoder().decode(await readFixture("confo-packet.ndjson")).trim();
    assert.equal(await device.send(JSON.parse(confo)), "Thank you");
  }
  const cmx = await postNotifications(server, new TextDecoder().decode(await readFixture("cmx-movement.json")));
  const { accepted } = await cmx.json();
  assert.ok(cmx.status === 200 && accepted > 0);
  const project = await createProject(server.fetch);
  const upload = await createUpload(server.fetch, project.id, 1000);
  assert.equal((await patch(server.fetch, upload, 0, testBytes(1000))).status, 204);

  const scraped = await scrape({ authorization: `Bearer ${TOKEN}` });
  assert.equal(scraped.status, 200);
  assert.equal(scraped.type, "text/plain; version=0.0.4; charset=utf-8");
  assert.equal((await scrape(basicAuth())).status, 200, "htpasswd users may scrape too");
  const samples = await parsePrometheus(scraped.text);

  assert.equal(sampleValue(samples, "fieldgate_ingested_total", { kind: "ott" }), 2);
  assert.equal(sampleValue(samples, "fieldgate_ingested_total", { kind: "meter" }), 3);
  assert.equal(sampleValue(samples, "fieldgate_ingested_total", { kind: "confo" }), 1);
  assert.equal(sampleValue(samples, "fieldgate_ingested_total", { kind: "cmx" }), accepted);
  assert.equal(sampleValue(samples, "fieldgate_ingested_total", { kind: "tus_uploads" }), 1);
  assert.equal(sampleValue(samples, "fieldgate_tus_received_bytes_total"), 1000);
  assert.equal(sampleValue(samples, "fieldgate_device_connections_total", { socket: "meter" }), 1);
  assert.equal(sampleValue(samples, "fieldgate_database_up"), 1);
  assert.equal(samples.find((s) => s.name === "fieldgate_ingested_total")?.type, "counter");

  const notAfter = await opensslNotAfter(server.caFile);
  const secondsLeft = (notAfter.getTime() - Date.now()) / 1000;
  assert.ok(Math.abs(sampleValue(samples, "fieldgate_certificate_expiry_seconds") - secondsLeft) < 60);
  assert.equal(sampleValue(samples, "fieldgate_certificate_not_after_timestamp_seconds"), notAfter.getTime() / 1000);
  const fs = await statfs(server.dataDir);
  const free = sampleValue(samples, "fieldgate_disk_free_bytes");
  // Other processes write to the same disk meanwhile: allow 1 GiB of drift.
  assert.ok(Math.abs(free - fs.bavail * fs.bsize) < 2 ** 30, `disk free ${free}`);
  assert.equal(sampleValue(samples, "fieldgate_disk_size_bytes"), fs.blocks * fs.bsize);
});

/** The certificate's expiry as openssl reads it (`notAfter=Nov 23 19:07:31 2027 GMT`). */
async function opensslNotAfter(file: string): Promise<Date> {
  const { stdout } = await new Deno.Command("openssl", { args: ["x509", "-enddate", "-noout", "-in", file] }).output();
  return new Date(new TextDecoder().decode(stdout).trim().replace("notAfter=", ""));
}
