import assert from "node:assert/strict";
import { readFixture } from "../helpers/fixtures.ts";
import { basicAuth, startTestServer } from "../helpers/server.ts";
import { CMX_CREDENTIALS, postNotifications, startCmxServer } from "../helpers/cmx_client.ts";

const fixture = async () => new TextDecoder().decode(await readFixture("cmx-movement.json"));

Deno.test("CMX fixture replay: every notification of the batch is stored before the 200", async () => {
  await using server = await startCmxServer();
  const response = await postNotifications(server, await fixture());
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { accepted: 2, rejected: [] });
  const summary = await server.records.cmx.summary(60 * 24 * 365 * 10);
  assert.equal(summary.trackedDevices, 2, "both notifications, not only the first");
  // Replayed a second later, 50 ft on, straight: the second sighting of each device sets p2, nothing added.
  const body = JSON.parse(await fixture());
  for (const n of body.notifications) {
    n.timestamp += 30_000;
    n.locationCoordinate.x += 50;
  }
  assert.equal((await postNotifications(server, JSON.stringify(body))).status, 200);
  assert.equal((await server.records.cmx.summary(60)).perMinute.reduce((s, m) => s + m.notifications, 0), 4);
});

Deno.test("CMX auth: 401 with a challenge for wrong or missing credentials, 503 when not configured", async () => {
  await using server = await startCmxServer();
  const body = await fixture();
  const wrong = await server.fetch("/notification", {
    method: "POST",
    body,
    headers: { authorization: `Basic ${btoa(`${CMX_CREDENTIALS.notification.user}:wrong`)}` },
  });
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers.get("www-authenticate") ?? "", /^Basic realm="CMX notifications"/);
  await wrong.body?.cancel();
  const missing = await server.fetch("/notification", { method: "POST", body });
  assert.equal(missing.status, 401);
  await missing.body?.cancel();
  // The htpasswd logger account is not a CMX account.
  const logger = await server.fetch("/notification", { method: "POST", body, headers: basicAuth() });
  assert.equal(logger.status, 401);
  await logger.body?.cancel();

  await using bare = await startTestServer();
  const unconfigured = await bare.fetch("/notification", { method: "POST", body, headers: basicAuth() });
  assert.equal(unconfigured.status, 503);
  assert.match((await unconfigured.json()).error, /not configured: set cmx.notificationUser/);
  const api = await bare.fetch("/live/leaderboard", { method: "POST", body: "{}" });
  assert.equal(api.status, 503);
  assert.match((await api.json()).error, /cmx.apiUser/);
});

Deno.test("CMX bad input: 400 for non-JSON or no notifications; a partly bad batch stores the good ones", async () => {
  await using server = await startCmxServer();
  for (const body of ["not json", "[]", '{"notifications": 1}']) {
    const response = await postNotifications(server, body);
    assert.equal(response.status, 400, body);
    assert.match((await response.json()).error, /nothing was stored/);
  }
  const good = JSON.parse(await fixture()).notifications[0];
  const mixed = { notifications: [good, { ...good, deviceId: "zz" }, { ...good, moveDistanceInFt: "far" }] };
  const response = await postNotifications(server, JSON.stringify(mixed));
  assert.equal(response.status, 200);
  const result = await response.json();
  assert.equal(result.accepted, 1);
  assert.deepEqual(result.rejected.map((r: { index: number }) => r.index), [1, 2]);
  const allBad = await postNotifications(server, JSON.stringify({ notifications: [{ deviceId: "zz" }] }));
  assert.equal(allBad.status, 400);
  assert.equal((await allBad.json()).accepted, 0);
  assert.equal((await server.records.cmx.summary(60)).trackedDevices, 1);
});

Deno.test("CMX area notifications fill the zone table; the admin page shows totals, chart and walkers", async () => {
  await using server = await startCmxServer();
  const zones = { notifications: [{ locationMapHierarchy: "Venue>Hall A>Level 1", deviceId: "00:00:3a:91:c4:07" }] };
  const response = await postNotifications(server, JSON.stringify(zones), "/notification/area");
  assert.equal(response.status, 200);
  await response.body?.cancel();
  await (await postNotifications(server, await fixture())).body?.cancel();
  const denied = await server.fetch("/cmx/admin");
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  const json = await (await server.fetch("/cmx/admin?format=json", { headers: basicAuth() })).json();
  assert.equal(json.zones, 1);
  assert.equal(json.trackedDevices, 2);
  const page = await (await server.fetch("/cmx/admin", { headers: basicAuth() })).text();
  assert.match(page, /<svg[^>]*aria-label="notifications per minute"/);
  assert.match(page, /Tracked devices<\/dt>\s*<dd>2</);
});
