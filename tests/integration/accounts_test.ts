/**
 * Accounts over real HTTPS against an in-process server with a file outbox:
 * registration and the emailed activation link, login sessions on the
 * pages people use, CSRF and Origin checks, password reset, login backoff,
 * and the admin pages.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Accounts } from "../../auth/accounts.ts";
import { UsersFile } from "../../auth/users_file.ts";
import { captureLogs } from "../auth/log_capture.ts";
import { linkIn, waitForMail } from "../helpers/outbox.ts";
import { createProject } from "../helpers/dropoff.ts";
import { LOGGER, startTestServer, type TestServer } from "../helpers/server.ts";
import { WebClient } from "../helpers/web_client.ts";

const PASSWORD = "a long enough passphrase";

/** Registers `username` through the form and opens the emailed activation link; returns the client. */
async function registerAndActivate(server: TestServer, username: string): Promise<WebClient> {
  const web = new WebClient(server.fetch, server.httpsUrl);
  const email = `${username}@example.org`;
  const registered = await web.submit("/account/register", "/account/register", {
    email,
    username,
    password: PASSWORD,
  });
  assert.equal(registered.status, 200, await registered.clone().text());
  assert.match(await registered.text(), /Check your email/);
  const mail = await waitForMail(join(server.dataDir, "outbox"), email, /activate/);
  const link = linkIn(mail.text, `${server.httpsUrl}/account/activate?token=`);
  const activated = await web.page(new URL(link).pathname + new URL(link).search);
  assert.equal(activated.status, 200, activated.html);
  assert.match(activated.html, /Your account is active/);
  return web;
}

async function logIn(web: WebClient, login: string, password = PASSWORD, next = "/account"): Promise<Response> {
  return await web.submit("/login", "/login", { login, password, next });
}

Deno.test("register, activate by the emailed link, log in, reach protected pages, log out", async () => {
  await using server = await startTestServer();
  const web = await registerAndActivate(server, "alice");
  assert.equal((await web.page("/account/activate?token=used")).status, 400, "unknown tokens are refused");

  const before = await web.page("/server-status");
  assert.equal(before.status, 303, "without a session a browser that used the account pages is sent to log in");
  const login = await logIn(web, "alice@example.org", PASSWORD, "/server-status");
  assert.equal(login.status, 303);
  assert.equal(login.headers.get("location"), "/server-status");
  const session = login.headers.getSetCookie().find((cookie) => cookie.startsWith("__Host-fieldgate-session="));
  assert.match(session ?? "", /; Path=\/; .*HttpOnly; Secure; SameSite=Lax/);

  const account = await web.page("/account");
  assert.equal(account.status, 200);
  assert.match(account.html, /alice@example\.org/);
  assert.equal((await web.page("/server-status")).status, 200, "the session opens the status page");
  const headers = (await web.request("/account")).headers;
  assert.match(headers.get("content-security-policy") ?? "", /default-src 'none'/);
  assert.equal(headers.get("x-frame-options"), "DENY");
  assert.equal(headers.get("cache-control"), "no-store");

  const project = await web.request("/api/projects", {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.httpsUrl },
    body: JSON.stringify({ name: "Alice samples" }),
  });
  assert.equal(project.status, 201, "the session owns projects under its username");
  const created = await project.json();
  assert.equal(created.owner, "alice");
  const own = (await web.page("/account")).html;
  assert.ok(own.includes("<td>Alice samples</td>") && own.includes(`href="/upload/${created.id}"`), own);
  const forged = await web.request("/api/projects", {
    method: "POST",
    headers: { "content-type": "application/json", origin: "https://evil.example" },
    body: JSON.stringify({ name: "forged" }),
  });
  assert.equal(forged.status, 403, "a session write from another origin is refused");
  await forged.body?.cancel();
  const noOrigin = await web.request("/api/projects", { method: "POST", body: JSON.stringify({ name: "x" }) });
  assert.equal(noOrigin.status, 403, "a session write without Origin is refused");
  await noOrigin.body?.cancel();

  const logout = await web.submit("/account", "/logout", {});
  assert.equal(logout.status, 303);
  assert.equal((await web.page("/account")).status, 303, "logged out");
  for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
    const elsewhere = await logIn(new WebClient(server.fetch, server.httpsUrl), "alice", PASSWORD, next);
    assert.equal(elsewhere.headers.get("location"), "/account", `no redirect off the site via ${next}`);
  }
});

Deno.test("forms refuse bad CSRF tokens, other origins, huge bodies, logger names and email floods", async () => {
  await using server = await startTestServer();
  const web = new WebClient(server.fetch, server.httpsUrl);
  await web.page("/account/register");
  const fields = { email: "mallory@example.org", username: "mallory", password: PASSWORD };
  assert.equal((await web.post("/account/register", { ...fields, _csrf: "guess" })).status, 403);
  const fresh = new WebClient(server.fetch, server.httpsUrl);
  assert.equal((await fresh.post("/account/register", fields)).status, 403, "no cookie, no token");
  const token = /name="_csrf" value="([^"]+)"/.exec((await web.page("/account/register")).html)![1];
  const crossSite = await web.post("/account/register", { ...fields, _csrf: token }, "https://evil.example");
  assert.equal(crossSite.status, 403, "the right token from another origin is still refused");

  const logger = await web.submit("/account/register", "/account/register", { ...fields, username: LOGGER.user });
  assert.equal(logger.status, 409, "a logger's name in the users file is taken");
  const short = await web.submit("/account/register", "/account/register", { ...fields, password: "short" });
  assert.equal(short.status, 400);
  assert.match(await short.text(), /at least 10 characters/);
  assert.deepEqual(await server.records.accounts.list(), [], "nothing was registered");

  const huge = await web.post("/login", { _csrf: token, login: "x".repeat(100_000), password: "y" });
  assert.equal(huge.status, 413, "a form body over 64 KiB is refused unread");
  for (let i = 3; i <= 5; i++) {
    const mail = await web.submit("/account/register", "/account/register", { ...fields, username: `user${i}` });
    assert.equal(mail.status, 200, `registration ${i} of 5 from this address`);
  }
  const flood = await web.submit("/account/register", "/account/register", { ...fields, username: "user6" });
  assert.equal(flood.status, 429, "the sixth email-sending form from one address waits");
  assert.ok(Number(flood.headers.get("retry-after")) >= 1);
});

Deno.test("password reset by emailed link ends old sessions; failed logins back off", async () => {
  await using server = await startTestServer({ auth: { maxFailures: 3, lockoutSeconds: 60 } });
  const web = await registerAndActivate(server, "bob");
  assert.equal((await logIn(web, "bob")).status, 303);
  const other = new WebClient(server.fetch, server.httpsUrl);
  const requested = await other.submit("/account/reset", "/account/reset", { email: "BOB@example.org" });
  assert.match(await requested.text(), /If an account has this email/);
  const unknown = await other.submit("/account/reset", "/account/reset", { email: "nobody@example.org" });
  assert.match(await unknown.text(), /If an account has this email/, "the same answer reveals nothing");
  const mail = await waitForMail(join(server.dataDir, "outbox"), "bob@example.org", /new password/);
  const link = new URL(linkIn(mail.text, `${server.httpsUrl}/account/reset/confirm?token=`));
  const token = link.searchParams.get("token")!;
  const set = await other.submit(link.pathname + link.search, "/account/reset/confirm", {
    token,
    password: "another long passphrase",
  });
  assert.equal(set.status, 200);
  assert.match(await set.text(), /new password is set/);
  assert.equal((await web.page("/account")).status, 303, "the session from before the reset has ended");
  const again = await other.submit("/account/reset/confirm", "/account/reset/confirm", { token, password: PASSWORD });
  assert.equal(again.status, 400, "a reset link works once");

  for (let i = 0; i < 3; i++) assert.equal((await logIn(other, "bob", "wrong password!")).status, 401);
  const blocked = await logIn(other, "bob", "another long passphrase");
  assert.equal(blocked.status, 429, "after maxFailures even the right password waits");
  assert.ok(Number(blocked.headers.get("retry-after")) >= 1);
});

Deno.test("admins list accounts and activate, deactivate and promote them; deactivation logs out", async () => {
  await using server = await startTestServer();
  const accounts = new Accounts(server.records.accounts, new UsersFile(join(server.dataDir, "users.htpasswd")));
  await accounts.register({ email: "root@example.org", username: "root", password: PASSWORD }, {
    activated: true,
    admin: true,
  });
  const carol = await registerAndActivate(server, "carol");
  assert.equal((await logIn(carol, "carol")).status, 303);
  assert.equal((await carol.page("/admin/accounts")).status, 403, "owners are not admins");

  const loggerProject = await createProject(server.fetch, { name: "Logger era project" });
  const admin = new WebClient(server.fetch, server.httpsUrl);
  assert.equal((await logIn(admin, "root")).status, 303);
  const list = await admin.page("/admin/accounts");
  assert.equal(list.status, 200);
  assert.match(list.html, /carol@example\.org/);
  assert.match(list.html, new RegExp(LOGGER.user), "logger credentials are listed too");
  assert.match(
    list.html,
    new RegExp(`<td>Logger era project</td>\\s*<td>${LOGGER.user}</td>`),
    "loggers' projects too",
  );
  assert.ok(list.html.includes(`href="/upload/${loggerProject.id}"`));
  const carolId = (await server.records.accounts.byUsername("carol"))!.id;
  const rootId = (await server.records.accounts.byUsername("root"))!.id;

  const deactivate = await admin.submit("/admin/accounts", `/admin/accounts/${carolId}`, { action: "deactivate" });
  assert.equal(deactivate.status, 303);
  assert.equal((await carol.page("/account")).status, 303, "a deactivated person is logged out at once");
  assert.equal((await logIn(carol, "carol")).status, 403, "and cannot log in");
  await carol.submit("/account/reset", "/account/reset", { email: "carol@example.org" });
  const mail = await waitForMail(join(server.dataDir, "outbox"), "carol@example.org", /new password/);
  const link = new URL(linkIn(mail.text, `${server.httpsUrl}/account/reset/confirm?token=`));
  const reset = await carol.submit(link.pathname + link.search, "/account/reset/confirm", {
    token: link.searchParams.get("token")!,
    password: "carol's new passphrase",
  });
  assert.equal(reset.status, 200);
  const refused = await logIn(carol, "carol", "carol's new passphrase");
  assert.equal(refused.status, 403, "a reset link never undoes an admin's deactivation");
  assert.match(await refused.text(), /deactivated by an admin/);
  await admin.submit("/admin/accounts", `/admin/accounts/${carolId}`, { action: "activate" });
  await admin.submit("/admin/accounts", `/admin/accounts/${carolId}`, { action: "grant-admin" });
  assert.deepEqual(
    await server.records.accounts.byUsername("carol").then((a) => [a!.activated, a!.admin]),
    [true, true],
  );
  const self = await admin.submit("/admin/accounts", `/admin/accounts/${rootId}`, { action: "revoke-admin" });
  assert.equal(self.status, 409, "an admin cannot lock themselves out");
  const bogus = await admin.submit("/admin/accounts", `/admin/accounts/${carolId}`, { action: "delete-everything" });
  assert.equal(bogus.status, 400);
});

Deno.test("the setup link printed at start-up creates the first admin, once", async () => {
  await using logs = await captureLogs();
  await using server = await startTestServer();
  const printed = logs.records.find((record) => typeof record.properties.setupUrl === "string");
  assert.ok(printed, "a setup link is logged while no admin exists");
  const link = new URL(printed.properties.setupUrl as string);
  assert.equal(link.origin, server.httpsUrl);
  const path = link.pathname + link.search;
  const web = new WebClient(server.fetch, server.httpsUrl);
  assert.equal((await web.page("/account/setup?token=guess")).status, 404);
  const token = link.searchParams.get("token")!;
  const fields = { token, email: "first@example.org", username: "first" };
  const short = await web.submit(path, "/account/setup", { ...fields, password: "short" });
  assert.equal(short.status, 400, "bad input keeps the link usable");
  const created = await web.submit(path, "/account/setup", { ...fields, password: PASSWORD });
  assert.equal(created.status, 200);
  assert.match(await created.text(), /admin account is ready/);
  const again = await web.submit("/account/register", "/account/setup", {
    ...fields,
    username: "second",
    password: PASSWORD,
  });
  assert.equal(again.status, 404, "the link works once");
  assert.deepEqual((await server.records.accounts.list()).map((a) => [a.username, a.activated, a.admin]), [
    ["first", true, true],
  ]);
  assert.equal((await logIn(web, "first", PASSWORD, "/admin/accounts")).status, 303);
  assert.equal((await web.page("/admin/accounts")).status, 200);
});

Deno.test("with the mail server down, registration says the email could not be sent and logs why", async () => {
  await using logs = await captureLogs();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  await using server = await startTestServer({ mail: { smtpUrl: `smtp://127.0.0.1:${port}` } });
  const web = new WebClient(server.fetch, server.httpsUrl);
  const response = await web.submit("/account/register", "/account/register", {
    email: "hal@example.org",
    username: "hal",
    password: PASSWORD,
  });
  assert.equal(response.status, 503);
  assert.match(await response.text(), /email could not be sent right now/);
  assert.match(
    logs.text(),
    /error: could not send the activation email via SMTP smtp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
  );
  assert.equal((await server.records.accounts.byUsername("hal"))?.activated, false, "the account waits, inactive");
});
