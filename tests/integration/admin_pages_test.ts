/**
 * The admin pages for logger credentials and devices over real HTTPS: an
 * admin adds, re-passwords and removes a logger on the page and a real OTT
 * post with its basic auth follows each change; non-admins and forms without
 * the CSRF token are refused; the devices page lists meters, Track Your Steps
 * registrations and projects, and deletes a registration.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Accounts } from "../../auth/accounts.ts";
import { UsersFile } from "../../auth/users_file.ts";
import { decideRegistration, usernameEmail } from "../../domain/cmx_live.ts";
import { connectDevice } from "../helpers/device_client.ts";
import { createProject } from "../helpers/dropoff.ts";
import { ottTransmission } from "../helpers/ott_transmission.ts";
import { basicAuth, startTestServer, type TestServer } from "../helpers/server.ts";
import { WebClient } from "../helpers/web_client.ts";

const PASSWORD = "a long enough passphrase";

/** Creates an activated account (as `deno task user account add` does) and returns a client logged in as it. */
async function loggedIn(server: TestServer, username: string, admin: boolean): Promise<WebClient> {
  const accounts = new Accounts(server.records.accounts, new UsersFile(join(server.dataDir, "users.htpasswd")));
  await accounts.register({ email: `${username}@example.org`, username, password: PASSWORD }, {
    activated: true,
    admin,
  });
  const web = new WebClient(server.fetch, server.httpsUrl);
  const login = await web.submit("/login", "/login", { login: username, password: PASSWORD, next: "/account" });
  assert.equal(login.status, 303, await login.text());
  return web;
}

/** Posts one OTT transmission with the given basic-auth credentials; returns the status. */
async function ottStatus(server: TestServer, user: string, password: string, seq: number): Promise<number> {
  const item = ottTransmission("0000000042", seq);
  const response = await server.fetch(`/ottt?stationid=${item.station}&action=senddata`, {
    method: "POST",
    body: item.body,
    headers: basicAuth(user, password),
  });
  const text = await response.text();
  if (response.status === 200) assert.ok(text.includes(`<Response stationId="${item.station}"`), text);
  return response.status;
}

Deno.test("an admin adds a logger, changes its password and removes it; OTT logins follow at once", async () => {
  await using server = await startTestServer();
  const admin = await loggedIn(server, "root", true);
  const page = await admin.page("/admin/loggers");
  assert.equal(page.status, 200);
  assert.match(page.html, /<td>dl001<\/td>\s*<td>bcrypt<\/td>/, "the existing logger is listed");

  const added = await admin.submit("/admin/loggers", "/admin/loggers", { name: "dl002", password: "first secret" });
  assert.equal(added.status, 303);
  assert.equal(added.headers.get("location"), "/admin/loggers?done=added%3A%20dl002");
  assert.equal(await ottStatus(server, "dl002", "first secret", 1), 200, "the new logger's upload is accepted");
  assert.match((await admin.page("/admin/loggers")).html, /<td>dl002<\/td>\s*<td>bcrypt<\/td>/);

  const again = await admin.submit("/admin/loggers", "/admin/loggers", { name: "dl002", password: "other secret" });
  assert.equal(again.status, 409, "adding never overwrites an existing logger's password");
  const account = await admin.submit("/admin/loggers", "/admin/loggers", { name: "ROOT", password: "x secret" });
  assert.equal(account.status, 400);
  assert.match(await account.text(), /&quot;ROOT&quot; is the username of a web account/, "the CLI's rule and words");
  const badName = await admin.submit("/admin/loggers", "/admin/loggers", { name: "a b", password: "x secret" });
  assert.equal(badName.status, 400);
  assert.match(await badName.text(), /invalid username/);
  const long = await admin.submit("/admin/loggers", "/admin/loggers", { name: "dl003", password: "x".repeat(73) });
  assert.equal(long.status, 400);
  assert.match(await long.text(), /bcrypt uses only the first 72 bytes/);

  const changed = await admin.submit("/admin/loggers", "/admin/loggers/dl002", {
    action: "password",
    password: "second secret",
  });
  assert.equal(changed.status, 303);
  assert.equal(await ottStatus(server, "dl002", "first secret", 2), 401, "the old password stops working");
  assert.equal(await ottStatus(server, "dl002", "second secret", 3), 200, "the new one works");

  const removed = await admin.submit("/admin/loggers", "/admin/loggers/dl002", { action: "remove" });
  assert.equal(removed.status, 303);
  assert.equal(await ottStatus(server, "dl002", "second secret", 4), 401, "a removed logger is refused");
  assert.deepEqual(
    (await new UsersFile(join(server.dataDir, "users.htpasswd")).list()).map((user) => user.user),
    ["dl001"],
    "the users file on disk holds only the original logger",
  );
  const missing = await admin.submit("/admin/loggers", "/admin/loggers/dl002", { action: "remove" });
  assert.equal(missing.status, 404);
  const unknownAction = await admin.submit("/admin/loggers", "/admin/loggers/dl001", { action: "rename" });
  assert.equal(unknownAction.status, 400);
});

Deno.test("non-admins, forms without the CSRF token and other origins cannot change loggers", async () => {
  await using server = await startTestServer();
  const owner = await loggedIn(server, "olga", false);
  assert.equal((await owner.page("/admin/loggers")).status, 403, "an owner's session is not an admin's");
  assert.equal((await owner.page("/admin/devices")).status, 403);
  // The owner holds a valid CSRF token from her own page; the admin guard still refuses.
  const byOwner = await owner.submit("/account", "/admin/loggers", { name: "sneaky", password: "some secret" });
  assert.equal(byOwner.status, 403);
  const removeByOwner = await owner.submit("/account", "/admin/loggers/dl001", { action: "remove" });
  assert.equal(removeByOwner.status, 403);

  const admin = await loggedIn(server, "root", true);
  await admin.page("/admin/loggers");
  const noToken = await admin.post("/admin/loggers", { name: "sneaky", password: "some secret" });
  assert.equal(noToken.status, 403, "a form without the CSRF token is refused");
  assert.match(await noToken.text(), /security token does not match/);
  const token = /name="_csrf" value="([^"]+)"/.exec((await admin.page("/admin/loggers")).html)![1];
  const crossSite = await admin.post(
    "/admin/loggers/dl001",
    { _csrf: token, action: "remove" },
    "https://evil.example",
  );
  assert.equal(crossSite.status, 403, "the right token from another origin is refused");
  await crossSite.body?.cancel();
  assert.deepEqual(
    (await new UsersFile(join(server.dataDir, "users.htpasswd")).list()).map((user) => user.user),
    ["dl001"],
    "nothing changed",
  );
  assert.equal(await ottStatus(server, "dl001", "correct horse battery staple", 1), 200);
});

Deno.test("the devices page lists meters, Track Your Steps registrations and projects; deletes a registration", async () => {
  await using server = await startTestServer();
  // A confirmed meter with a creator, then two readings over the real sockets.
  await server.records.confo.registerEmail("maker@example.org");
  using confo = await connectDevice(server.confoPort!, server.caFile);
  const confirmation = { deviceName: "Meter A", ssid: "lab", hash: 777, email: "maker@example.org" };
  assert.equal(await confo.send(confirmation), "Thank you");
  using meter = await connectDevice(server.meterPort!, server.caFile);
  for (const timestamp of [1718036101, 1718036161]) {
    const reading = { Id: 777, timestamp, status: true, voltage: 231.4, freq: 50.02 };
    assert.equal(await meter.send(reading), "Thank you");
  }
  const email = usernameEmail("walker");
  const registered = await server.records.cmx.register(
    { email, nickname: "walker" },
    "00:11:22:33:44:55",
    (facts) => decideRegistration(email, facts, 1),
  );
  assert.equal(registered, "created");
  const project = await createProject(server.fetch, { name: "Field photos" });

  const admin = await loggedIn(server, "root", true);
  const page = await admin.page("/admin/devices");
  assert.equal(page.status, 200, page.html);
  assert.match(
    page.html,
    /<td>777<\/td>\s*<td>Meter A<\/td>\s*<td>777<\/td>\s*<td>maker@example\.org<\/td>\s*<td>2<\/td>\s*<td>2024-06-10 16:16:01 UTC<\/td>/,
  );
  assert.match(page.html, /<dt>Registered users<\/dt>\s*<dd>1<\/dd>\s*<dt>Registered devices<\/dt>\s*<dd>1<\/dd>/);
  assert.ok(page.html.includes('href="/cmx/admin"'));
  assert.match(
    page.html,
    new RegExp(
      `<a href="/upload/${project.id}">Field photos</a></td>\\s*<td>dl001</td>\\s*<td>never</td>\\s*<td>0</td>`,
    ),
  );
  const links = (await admin.page("/admin/accounts")).html;
  assert.ok(links.includes('href="/admin/loggers"') && links.includes('href="/admin/devices"'), links);

  const deleted = await admin.submit("/admin/devices", "/admin/devices/cmx-user/delete", { username: "walker" });
  assert.equal(deleted.status, 303);
  assert.equal((await server.records.cmx.summary(1)).users, 0, "the registration is gone");
  const after = await admin.page(deleted.headers.get("location")!);
  assert.match(after.html, /deleted Track Your Steps user: walker@/);
  assert.match(after.html, /<dt>Registered users<\/dt>\s*<dd>0<\/dd>/);
  const again = await admin.submit("/admin/devices", "/admin/devices/cmx-user/delete", { username: "walker" });
  assert.match((await admin.page(again.headers.get("location")!)).html, /No Track Your Steps user walker@/);
  assert.equal((await server.records.meters.meters()).length, 1, "meters stay: the page offers no way to delete one");
});
