import assert from "node:assert/strict";
import { connectDevice } from "../helpers/device_client.ts";
import { readFixture } from "../helpers/fixtures.ts";
import { basicAuth, startTestServer, type TestServer } from "../helpers/server.ts";

/** Runs `deno task maintenance …` against the server's data directory. */
async function maintenanceCli(server: TestServer, ...args: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/maintenance.ts", ...args, "--data-dir", server.dataDir],
    cwd: new URL("../..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

/** Waits until the server (which re-reads the file each second) reports `phase`. */
async function waitForPhase(server: TestServer, phase: string | null): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const status = await (await server.fetch("/server-status?format=json", { headers: basicAuth() })).json();
    if ((status.maintenance?.phase ?? null) === phase) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`maintenance phase never became ${phase}`);
}

Deno.test("a maintenance window is announced ahead, pauses API writes when active, and never refuses device data", async () => {
  await using server = await startTestServer({ cmx: { apiUser: "api", apiPassword: "a-secret" } });
  const apiAuth = { authorization: `Basic ${btoa("api:a-secret")}`, "content-type": "application/json" };

  assert.match(
    await maintenanceCli(server, "on", "--at", "2099-01-01T18:00Z", "--message", "Upgrade to 0.2"),
    /announced/,
  );
  await waitForPhase(server, "announced");
  const announced = await server.fetch("/ping");
  assert.equal(announced.headers.get("fieldgate-maintenance"), "2099-01-01T18:00:00.000Z; Upgrade to 0.2");
  await announced.body?.cancel();
  const page = await (await server.fetch("/server-status?format=html", { headers: basicAuth() })).text();
  assert.match(
    page,
    /<body[^>]*>\s*<div role="status"[^>]*>Maintenance planned for 2099-01-01 18:00 UTC: Upgrade to 0.2/,
  );

  await maintenanceCli(server, "on", "--at", "now", "--message", "Upgrade to 0.2");
  await waitForPhase(server, "active");
  const paused = await server.fetch("/live/leaderboard", { method: "POST", headers: apiAuth, body: "{}" });
  assert.equal(paused.status, 503);
  assert.equal(paused.headers.get("retry-after"), "300");
  assert.match((await paused.json()).error, /maintenance.*device data is still received/);

  const ott = await server.fetch("/ottt?stationid=during&action=senddata", {
    method: "POST",
    body: await readFixture("ott-senddata.xml"),
    headers: basicAuth(),
  });
  assert.equal(ott.status, 200, "OTT loggers are never refused");
  await ott.body?.cancel();
  using meter = await connectDevice(server.meterPort!, server.caFile);
  assert.equal(await meter.send({ Id: 5, status: true, voltage: 1, freq: 50 }), "Thank you");
  const reads = await server.fetch("/api/meters", { headers: basicAuth() });
  assert.equal(reads.status, 200, "reading is not writing");
  await reads.body?.cancel();

  assert.match(await maintenanceCli(server, "off"), /off/);
  await waitForPhase(server, null);
  const resumed = await server.fetch("/live/leaderboard", { method: "POST", headers: apiAuth, body: "{}" });
  assert.notEqual(resumed.status, 503);
  await resumed.body?.cancel();
});
