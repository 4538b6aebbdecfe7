import assert from "node:assert/strict";
import { join } from "node:path";
import { InvalidUsernameError } from "../../auth/htpasswd.ts";
import { UsersFile } from "../../auth/users_file.ts";
import { captureLogs } from "./log_capture.ts";

const FIXTURE_URL = new URL("../fixtures/htpasswd/users.htpasswd", import.meta.url);

/** A temp dir with a settable clock, removed on dispose. */
async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-users-" });
  const clock = { now: 1_000_000 };
  const path = join(dir, "users.htpasswd");
  return {
    dir,
    path,
    clock,
    users: new UsersFile(path, { now: () => clock.now }),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("a missing users file refuses every login and warns once how to add a user", async () => {
  await using logs = await captureLogs();
  await using env = await setup();
  assert.equal(await env.users.verify("alice", "pw"), false);
  env.clock.now += 5000;
  assert.equal(await env.users.verify("alice", "pw"), false);
  const warnings = logs.records.filter((record) => record.level === "warning");
  assert.equal(warnings.length, 1);
  assert.match(logs.text(), /No users file at .*users\.htpasswd.*deno task user add NAME/);
});

Deno.test("add creates the file with mode 0600, verify accepts it, remove revokes it", async () => {
  await using env = await setup();
  assert.equal(await env.users.add("alice", "first password"), true);
  assert.equal((await Deno.stat(env.path)).mode! & 0o777, 0o600);
  assert.equal(await env.users.verify("alice", "first password"), true);
  assert.equal(await env.users.verify("alice", "wrong"), false);
  assert.equal(await env.users.verify("bob", "first password"), false);

  assert.equal(await env.users.add("alice", "second password"), false);
  assert.equal(await env.users.verify("alice", "first password"), false, "a new hash invalidates the cached success");
  assert.equal(await env.users.verify("alice", "second password"), true);

  assert.equal(await env.users.remove("alice"), true);
  assert.equal(await env.users.remove("alice"), false);
  assert.equal(await env.users.verify("alice", "second password"), false);
  assert.deepEqual([...Deno.readDirSync(env.dir)].map((entry) => entry.name), ["users.htpasswd"], "no temp file left");
});

Deno.test("add keeps comments, other users and the mode of an existing file", async () => {
  await using env = await setup();
  const original = await Deno.readTextFile(FIXTURE_URL);
  await Deno.writeTextFile(env.path, original);
  await Deno.chmod(env.path, 0o640);
  await env.users.add("newcomer", "pw");
  assert.equal(await Deno.readTextFile(env.path), original + "newcomer:" + (await lastHash(env.path)) + "\n");
  assert.equal((await Deno.stat(env.path)).mode! & 0o777, 0o640);
  assert.deepEqual((await env.users.list()).slice(0, 3), [
    { user: "bcrypt-user", format: "bcrypt" },
    { user: "bcrypt-cost10", format: "bcrypt" },
    { user: "unicode-bcrypt", format: "bcrypt" },
  ]);
  assert.equal((await env.users.list()).find((entry) => entry.user === "plain-user")?.format, "unsupported");
});

Deno.test("edits by other tools are picked up on the first check after a second, not before", async () => {
  await using env = await setup();
  await Deno.writeTextFile(env.path, "apr1-user:$apr1$K1uAFMve$gIAm9EmtArutDEpMDKShN1\n");
  assert.equal(await env.users.verify("apr1-user", "apr1 secret"), true);

  await Deno.writeTextFile(env.path, "sha-user:{SHA}VV3Pl/bcVwPDTwKT5s/PYAwBzxA=\n");
  env.clock.now += 500;
  assert.equal(await env.users.verify("sha-user", "colon:inside"), false, "checked less than a second ago");
  env.clock.now += 600;
  assert.equal(await env.users.verify("sha-user", "colon:inside"), true);
  assert.equal(await env.users.verify("apr1-user", "apr1 secret"), false, "removed user is gone");

  await Deno.remove(env.path);
  env.clock.now += 1001;
  assert.equal(await env.users.verify("sha-user", "colon:inside"), false, "deleted file means no users");
});

Deno.test("concurrent first logins all wait for the initial load", async () => {
  await using env = await setup();
  await Deno.writeTextFile(env.path, "sha-user:{SHA}VV3Pl/bcVwPDTwKT5s/PYAwBzxA=\n");
  const results = await Promise.all(Array.from({ length: 10 }, () => env.users.verify("sha-user", "colon:inside")));
  assert.deepEqual(results, Array(10).fill(true));
});

Deno.test("a repeated successful bcrypt login is answered from the cache, far faster", async () => {
  await using env = await setup();
  await env.users.add("alice", "cached password");
  const started = performance.now();
  assert.equal(await env.users.verify("alice", "cached password"), true);
  const firstMs = performance.now() - started;
  const again = performance.now();
  for (let i = 0; i < 10; i++) assert.equal(await env.users.verify("alice", "cached password"), true);
  const tenCachedMs = performance.now() - again;
  assert.ok(tenCachedMs < firstMs, `10 cached checks took ${tenCachedMs} ms, one bcrypt check ${firstMs} ms`);
});

Deno.test("parallel first logins with the same credentials share one bcrypt check", async () => {
  await using env = await setup();
  await env.users.add("alice", "parallel password");
  await env.users.add("bob", "other password");
  const single = performance.now();
  assert.equal(await env.users.verify("bob", "other password"), true);
  const oneCheckMs = performance.now() - single;
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: 20 }, () => env.users.verify("alice", "parallel password")));
  const twentyMs = performance.now() - started;
  assert.deepEqual(results, Array(20).fill(true));
  assert.ok(twentyMs < oneCheckMs * 5, `20 parallel logins took ${twentyMs} ms, one bcrypt check ${oneCheckMs} ms`);
});

Deno.test("an unknown user costs about as much as a wrong password, hiding who exists", async () => {
  await using env = await setup();
  await env.users.add("alice", "pw");
  await env.users.verify("alice", "warm-up");
  const time = async (user: string) => {
    const started = performance.now();
    assert.equal(await env.users.verify(user, "wrong"), false);
    return performance.now() - started;
  };
  const wrongPasswordMs = await time("alice");
  const unknownUserMs = await time("mallory");
  assert.ok(unknownUserMs > wrongPasswordMs / 3, `unknown ${unknownUserMs} ms vs wrong password ${wrongPasswordMs} ms`);
});

Deno.test("invalid usernames are refused before anything is written", async () => {
  await using env = await setup();
  await assert.rejects(env.users.add("a:b", "pw"), InvalidUsernameError);
  await assert.rejects(Deno.stat(env.path), Deno.errors.NotFound);
});

Deno.test("unsupported hashes and malformed lines in the file are reported in the log", async () => {
  await using logs = await captureLogs();
  await using env = await setup();
  await Deno.writeTextFile(env.path, "ok:{SHA}VV3Pl/bcVwPDTwKT5s/PYAwBzxA=\nplain:text\ngarbage line\n");
  await env.users.verify("ok", "colon:inside");
  assert.match(logs.text(), /lines 3 are not user:hash/);
  assert.match(logs.text(), /plain have hashes fieldgate cannot verify/);
});

async function lastHash(path: string): Promise<string> {
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
  return lines.at(-1)!.split(":")[1];
}
