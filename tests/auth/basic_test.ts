import assert from "node:assert/strict";
import { Hono } from "hono";
import { LoginBackoff } from "../../auth/backoff.ts";
import { type AuthEnv, basicAuthGuard, parseBasicAuthorization, type UserVerifier } from "../../auth/basic.ts";
import { UsersFile } from "../../auth/users_file.ts";
import { captureLogs } from "./log_capture.ts";

const FIXTURE_PATH = new URL("../fixtures/htpasswd/users.htpasswd", import.meta.url).pathname;

/** A tiny app behind the guard; counts how often passwords were actually checked. */
function protectedApp(options: { realm?: string; maxFailures?: number } = {}) {
  const users = new UsersFile(FIXTURE_PATH);
  const counter = { verifications: 0 };
  const countingUsers: UserVerifier = {
    verify(user, password) {
      counter.verifications++;
      return users.verify(user, password);
    },
  };
  const backoff = new LoginBackoff({ maxFailures: options.maxFailures ?? 3, lockoutSeconds: 60 });
  const app = new Hono<AuthEnv>();
  app.use("/*", basicAuthGuard({ users: countingUsers, backoff, realm: options.realm ?? "fieldgate test" }));
  app.get("/whoami", (c) => c.text(`hello ${c.get("user")}`));
  return { app, backoff, counter };
}

/** What Deno.serve passes as `c.env`: the connection info with the peer address. */
function from(hostname: string) {
  return { remoteAddr: { hostname, port: 40000, transport: "tcp" } };
}

function basic(user: string, password: string): HeadersInit {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return { Authorization: "Basic " + btoa(String.fromCharCode(...bytes)) };
}

Deno.test("no credentials: 401 with a UTF-8 Basic challenge, not counted as a failure", async () => {
  const { app, backoff } = protectedApp();
  for (let i = 0; i < 5; i++) {
    const response = await app.request("/whoami", {}, from("192.0.2.1"));
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("WWW-Authenticate"), 'Basic realm="fieldgate test", charset="UTF-8"');
    assert.match(await response.text(), /Authentication required/);
  }
  assert.equal(backoff.retryAfterSeconds("192.0.2.1"), 0);
});

Deno.test("good credentials of every supported format reach the route with the user name set", async () => {
  const { app } = protectedApp();
  const logins = [["bcrypt-user", "correct horse"], ["unicode-bcrypt", "grüße-✓"], ["apr1-user", "apr1 secret"], [
    "sha-user",
    "colon:inside",
  ]];
  for (const [user, password] of logins) {
    const response = await app.request("/whoami", { headers: basic(user, password) }, from("192.0.2.1"));
    assert.equal(response.status, 200, user);
    assert.equal(await response.text(), `hello ${user}`);
  }
});

Deno.test("wrong password: 401 with the challenge and a warning naming user and IP but never the password", async () => {
  await using logs = await captureLogs();
  const { app } = protectedApp();
  const secret = "Tr0ub4dor&3-never-log-me";
  const response = await app.request("/whoami", { headers: basic("bcrypt-user", secret) }, from("192.0.2.9"));
  assert.equal(response.status, 401);
  assert.equal(response.headers.get("WWW-Authenticate"), 'Basic realm="fieldgate test", charset="UTF-8"');
  assert.match(await response.text(), /Wrong user name or password/);
  const failures = logs.records.filter((record) => record.rawMessage.toString().startsWith("Login failed"));
  assert.equal(failures.length, 1);
  assert.equal(failures[0].level, "warning");
  assert.deepEqual(failures[0].properties, { user: "bcrypt-user", ip: "192.0.2.9" });
  assert.ok(!logs.text().includes(secret), logs.text());
});

Deno.test("repeated failures from one IP get 429 + Retry-After, and the password is not even checked", async () => {
  const { app, counter } = protectedApp({ maxFailures: 3 });
  for (let i = 0; i < 3; i++) {
    const response = await app.request("/whoami", { headers: basic("apr1-user", "guess" + i) }, from("192.0.2.66"));
    assert.equal(response.status, 401);
  }
  const checksBefore = counter.verifications;
  const blocked = await app.request("/whoami", { headers: basic("apr1-user", "apr1 secret") }, from("192.0.2.66"));
  assert.equal(blocked.status, 429);
  assert.equal(blocked.headers.get("Retry-After"), "1");
  assert.match(await blocked.text(), /Too many failed logins from 192\.0\.2\.66\. Retry in 1 s/);
  assert.equal(counter.verifications, checksBefore, "no password check while blocked");

  const otherIp = await app.request("/whoami", { headers: basic("apr1-user", "apr1 secret") }, from("192.0.2.67"));
  assert.equal(otherIp.status, 200, "other clients are unaffected");
});

Deno.test("a malformed Authorization header is a counted failure, logged without its content", async () => {
  await using logs = await captureLogs();
  const { app, backoff } = protectedApp({ maxFailures: 1 });
  const response = await app.request("/whoami", { headers: { Authorization: "Basic !!!" } }, from("192.0.2.5"));
  assert.equal(response.status, 401);
  assert.equal(backoff.retryAfterSeconds("192.0.2.5"), 1);
  assert.match(logs.text(), /malformed Authorization header/);
});

Deno.test("without connection info (app.request with no env) the client counts as 'unknown'", async () => {
  const { app, backoff } = protectedApp({ maxFailures: 1 });
  const ok = await app.request("/whoami", { headers: basic("sha-user", "colon:inside") });
  assert.equal(ok.status, 200);
  await app.request("/whoami", { headers: basic("sha-user", "nope") });
  assert.equal(backoff.retryAfterSeconds("unknown"), 1);
});

Deno.test("quotes and backslashes in the realm are escaped in the challenge", async () => {
  const { app } = protectedApp({ realm: 'say "hi" \\o/' });
  const response = await app.request("/whoami");
  assert.equal(response.headers.get("WWW-Authenticate"), 'Basic realm="say \\"hi\\" \\\\o/", charset="UTF-8"');
});

Deno.test("parseBasicAuthorization decodes UTF-8, splits at the first colon and rejects junk", () => {
  assert.deepEqual(parseBasicAuthorization("Basic " + btoa("user:pa:ss")), { user: "user", password: "pa:ss" });
  assert.deepEqual(parseBasicAuthorization("basic " + btoa("u:")), { user: "u", password: "" });
  assert.deepEqual(parseBasicAuthorization("Basic dXNlcjpncsO8w59l"), { user: "user", password: "grüße" });
  for (const junk of ["Bearer abc", "Basic", "Basic !!!", "Basic " + btoa("no colon"), "Basic /w=="]) {
    assert.equal(parseBasicAuthorization(junk), undefined, junk);
  }
});
