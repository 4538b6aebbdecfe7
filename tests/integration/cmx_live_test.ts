/**
 * Every row of seed 003's error table, and the success answers, through real
 * HTTPS requests to a server with the `test` CMX host and MAC hashing on.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import type { TestServer } from "../helpers/server.ts";
import { live, MAC_HASH_KEY, postNotifications, startCmxServer } from "../helpers/cmx_client.ts";

/** The `test` host's MAC for 10.0.0.<n>, hashed as CMX would (computed here, not with the code under test). */
function hashedMacOf(lastOctet: number): string {
  // The original's ip_to_mac: 10.0.0.n as one decimal integer, 10 digits in pairs after "00".
  const real = `00:${String(167772160 + lastOctet).padStart(10, "0").match(/../g)!.join(":")}`;
  const digest = createHash("sha1").update(real.replaceAll(":", "") + MAC_HASH_KEY).digest("hex");
  return `00:00:${digest.slice(32, 34)}:${digest.slice(34, 36)}:${digest.slice(36, 38)}:${digest.slice(38, 40)}`;
}

/** Runs SQL on the server's SQLite file from outside, as an operator (or a failing disk) might. */
function sabotage(server: TestServer, sql: string): void {
  const db = new DatabaseSync(join(server.dataDir, "fieldgate.sqlite"));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

const T0 = Date.UTC(2024, 5, 10, 16, 0, 0);

/** Three straight 100 ft sightings a minute apart: the third adds 30.48 m. */
function walkBody(mac: string): string {
  return JSON.stringify({
    notifications: [0, 1, 2].map((i) => ({
      notificationType: "movement",
      deviceId: mac,
      moveDistanceInFt: 100,
      locationCoordinate: { x: 100 + 100 * i, y: 50, unit: "FEET" },
      floorId: 723413320329068590,
      timestamp: T0 + 60_000 * i,
    })),
  });
}

Deno.test("register_username: every status and message of the seed", async () => {
  await using server = await startCmxServer();
  const leigh = { username: "LeighPC", ip: "10.0.0.5" };
  const created = await live(server, "register_username", leigh);
  assert.equal(created.status, 201);
  assert.deepEqual(created.body, {
    success: "Username added with device",
    username: "LeighPC",
    email: "LeighPC@cmxtrackyoursteps.com",
    mac: "00:01:67:77:21:65",
    hash_mac: hashedMacOf(5),
  });
  assert.equal(created.text.indexOf('"email"') < created.text.indexOf('"hash_mac"'), true, "sorted keys");

  const again = await live(server, "register_username", leigh);
  assert.equal(again.status, 200);
  assert.equal((again.body as { info: string }).info, "Username already registered with that mac, nothing to do");

  const taken = await live(server, "register_username", { username: "LeighPC", ip: "10.0.0.6" });
  assert.equal(taken.status, 409);
  assert.equal((taken.body as { error: string }).error, "Username already registered");

  const owned = await live(server, "register_username", { username: "Other", ip: "10.0.0.5" });
  assert.equal(owned.status, 409);
  assert.equal((owned.body as { error: string }).error, "Device already registered with another username.");

  const outside = await live(server, "register_username", { username: "Guest", ip: "64.102.249.9" });
  assert.equal(outside.status, 404);
  assert.deepEqual(outside.body, {
    error: "Connect to #clus WiFi first",
    username: "Guest",
    email: "Guest@cmxtrackyoursteps.com",
    ip: "64.102.249.9",
  });

  const badRequests: [unknown, { contentType?: string; raw?: string }][] = [
    [leigh, { contentType: "text/plain" }],
    [null, { raw: "{not json" }],
    [null, { raw: "[1]" }],
    [{ username: "x" }, {}],
    [{ username: 7, ip: "10.0.0.7" }, {}],
    [{ username: "x", ip: "10.0.0" }, {}],
  ];
  for (const [body, init] of badRequests) {
    const response = await live(server, "register_username", body, init);
    assert.equal(response.status, 400, JSON.stringify([body, init]));
    assert.deepEqual(response.body, {
      error: "Not a POST request or no application/json headers with username and ip",
    });
  }
  for (const username of ["", "@home"]) {
    const response = await live(server, "register_username", { username, ip: "10.0.0.8" });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, { error: "First character cannot be a @" });
  }
  const tooLong = await live(server, "register_username", { username: "x".repeat(101), ip: "10.0.0.8" });
  assert.equal(tooLong.status, 400);
  assert.deepEqual(tooLong.body, { error: "Username longer than 100 characters" });

  sabotage(
    server,
    "CREATE TRIGGER fail_users BEFORE INSERT ON cmx_users BEGIN SELECT RAISE(ABORT, 'disk on fire'); END",
  );
  const failed = await live(server, "register_username", { username: "Unlucky", ip: "10.0.0.9" });
  assert.equal(failed.status, 500);
  assert.equal((failed.body as { error: string }).error, "Database error adding user");
});

Deno.test("delete_username: every status and message of the seed; distances stay with the device", async () => {
  await using server = await startCmxServer();
  assert.equal((await live(server, "register_username", { username: "Del", ip: "10.0.0.20" })).status, 201);
  assert.equal((await postNotifications(server, walkBody(hashedMacOf(20)))).status, 200);

  const missing = await live(server, "delete_username", { name: "Del" });
  assert.equal(missing.status, 400);
  assert.equal((missing.body as { error: string }).error, "Expecting keyname username to delete.");
  const notJson = await live(server, "delete_username", null, { raw: "username=Del", contentType: "text/plain" });
  assert.equal(notJson.status, 400);
  assert.match((notJson.body as { error: string }).error, /^Not a POST request or no application\/json headers/);

  const unknown = await live(server, "delete_username", { username: "Nobody" });
  assert.equal(unknown.status, 404);
  assert.equal((unknown.body as { error: string }).error, "Username not found");

  const deleted = await live(server, "delete_username", { username: "Del" });
  assert.equal(deleted.status, 200);
  assert.deepEqual(deleted.body, {
    success: "Username and associated devices deleted",
    username: "Del",
    email: "Del@cmxtrackyoursteps.com",
  });
  assert.equal((await live(server, "register_username", { username: "Del2", ip: "10.0.0.20" })).status, 201);
  const data = await live(server, "username_data", { username: "Del2" });
  assert.equal((data.body as { total_kilometres: number }[])[0].total_kilometres, 0.03);

  sabotage(server, "CREATE TRIGGER fail_delete BEFORE DELETE ON cmx_users BEGIN SELECT RAISE(ABORT, 'locked'); END");
  const failed = await live(server, "delete_username", { username: "Del2" });
  assert.equal(failed.status, 500);
  assert.equal((failed.body as { error: string }).error, "Could not delete user from database");
});

Deno.test("username_data: dashboard numbers, rounding, dates, sorted keys, and every error of the seed", async () => {
  await using server = await startCmxServer();
  assert.equal((await live(server, "register_username", { username: "Leigh", ip: "10.0.0.30" })).status, 201);
  const noData = await live(server, "username_data", { username: "Leigh" });
  assert.equal(noData.status, 404, "registered, never seen by CMX");
  assert.equal((noData.body as { error: string }).error, "No data");

  assert.equal((await postNotifications(server, walkBody(hashedMacOf(30)))).status, 200);
  const data = await live(server, "username_data", { username: "Leigh", days: 5 });
  assert.equal(data.status, 200);
  assert.equal(
    data.text,
    `[{"distance_day":[{"date":"06/10/2024","km":0.03,"miles":0.019}],"mac":"${hashedMacOf(30)}",` +
      `"place":1,"total_kilometres":0.03,"total_miles":0.019,"username":"Leigh"}]`,
  );

  const expecting = await live(server, "username_data", { days: 5 });
  assert.equal(expecting.status, 400);
  assert.equal((expecting.body as { error: string }).error, "Expecting key name username to get data for.");
  const badDays = await live(server, "username_data", { username: "Leigh", days: "five" });
  assert.equal(badDays.status, 400);
  const textDays = await live(server, "username_data", { username: "Leigh", days: "5" });
  assert.equal(textDays.text, data.text, "days as a numeric string, as the original's int() read it");
  const notFound = await live(server, "username_data", { username: "Ghost" });
  assert.equal(notFound.status, 404);
  assert.equal((notFound.body as { error: string }).error, "Username not found");
  const malformed = await live(server, "username_data", null, { raw: '{"username": "Leigh"' });
  assert.equal(malformed.status, 400);

  sabotage(server, "ALTER TABLE cmx_distance_history RENAME TO cmx_history_gone");
  const failed = await live(server, "username_data", { username: "Leigh" });
  assert.equal(failed.status, 500);
  assert.equal((failed.body as { error: string }).error, "Could not get device for username");
});

Deno.test("leaderboard and ip_username: answers, limits and errors", async () => {
  await using server = await startCmxServer();
  for (const [username, octet] of [["Walker", 40], ["Idle", 41]] as const) {
    assert.equal((await live(server, "register_username", { username, ip: `10.0.0.${octet}` })).status, 201);
  }
  assert.equal((await postNotifications(server, walkBody(hashedMacOf(40)))).status, 200);
  assert.equal((await postNotifications(server, walkBody("00:00:de:ad:be:ef"))).status, 200); // unregistered

  const board = await live(server, "leaderboard", {});
  assert.equal(board.status, 200);
  assert.equal(
    board.text,
    '{"leaders":[{"kilometres":0,"miles":0,"place":1,"username":"Walker"},' +
      '{"kilometres":0,"miles":0,"place":2,"username":"Idle"}],"total_kilometres":0.1,"total_miles":0}',
  );
  assert.equal((await live(server, "leaderboard", { number_leaders: 1 })).text.match(/"place"/g)?.length, 1);
  const tooMany = await live(server, "leaderboard", { number_leaders: 101 });
  assert.equal(tooMany.status, 400);
  assert.equal((await live(server, "leaderboard", { number_leaders: 100 })).status, 200);
  assert.equal((await live(server, "leaderboard", { number_leaders: "1" })).text.match(/"place"/g)?.length, 1);
  assert.equal((await live(server, "leaderboard", { number_leaders: "101" })).status, 400);
  assert.equal((await live(server, "leaderboard", { number_leaders: "1.5" })).status, 400);
  assert.equal((await live(server, "leaderboard", null, { contentType: "text/plain", raw: "{}" })).status, 400);

  const registered = await live(server, "ip_username", { ip: "10.0.0.40" });
  assert.equal(registered.status, 200);
  assert.deepEqual(registered.body, { hash_mac: hashedMacOf(40), ip: "10.0.0.40", username: "Walker" });
  const known = await live(server, "ip_username", { ip: "10.0.0.99" });
  assert.equal(known.status, 204);
  assert.equal(known.text, "");
  const outside = await live(server, "ip_username", { ip: "8.8.8.8" });
  assert.equal(outside.status, 404);
  assert.deepEqual(outside.body, { error: "IP not found on CMX." });
  assert.equal((await live(server, "ip_username", {})).status, 400);

  const get = await server.fetch("/live/leaderboard");
  assert.equal(get.status, 401, "authentication comes first");
  await get.body?.cancel();

  sabotage(server, "ALTER TABLE cmx_distance RENAME TO cmx_distance_gone");
  // A board asked before is answered from memory until the standings move: ask one not read yet.
  const failed = await live(server, "leaderboard", { number_leaders: 3 });
  assert.equal(failed.status, 500);
  assert.deepEqual(failed.body, { error: "No data to display for the leader board" });
});
