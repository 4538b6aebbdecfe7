/**
 * The owner of a drop-off project gets an email when an upload finishes
 * (project, file name, size, SHA-256, note), and a mail server that cannot
 * be reached never fails or delays the upload: the failure is only logged.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Accounts } from "../../auth/accounts.ts";
import { UsersFile } from "../../auth/users_file.ts";
import { captureLogs } from "../auth/log_capture.ts";
import { createUpload, metadata, patch, sha256Hex, testBytes } from "../helpers/dropoff.ts";
import { waitForMail } from "../helpers/outbox.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { WebClient } from "../helpers/web_client.ts";

const PASSWORD = "a long enough passphrase";

/** An activated owner account, logged in, with one project; returns the project id. */
async function ownerProject(server: TestServer, username: string): Promise<string> {
  const accounts = new Accounts(server.records.accounts, new UsersFile(join(server.dataDir, "users.htpasswd")));
  await accounts.register({ email: `${username}@example.org`, username, password: PASSWORD }, { activated: true });
  const web = new WebClient(server.fetch, server.httpsUrl);
  const login = await web.submit("/login", "/login", { login: username, password: PASSWORD, next: "/account" });
  assert.equal(login.status, 303);
  const created = await web.request("/api/projects", {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.httpsUrl },
    body: JSON.stringify({ name: "Reef survey 2026" }),
  });
  assert.equal(created.status, 201);
  return (await created.json()).id;
}

/** Uploads `bytes` in two PATCHes with a file name and a note; asserts each PATCH was acknowledged. */
async function upload(server: TestServer, projectId: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  const path = await createUpload(server.fetch, projectId, bytes.length, {
    "Upload-Metadata": metadata({ filename: "transect-7.csv", note: "Dive 3, left camera.\nSecond line." }),
  });
  const half = Math.floor(bytes.length / 2);
  assert.equal((await patch(server.fetch, path, 0, bytes.slice(0, half))).status, 204);
  assert.equal((await patch(server.fetch, path, half, bytes.slice(half))).status, 204);
}

Deno.test("the project owner is emailed the file name, size, SHA-256 and note of a finished upload", async () => {
  await using server = await startTestServer();
  const projectId = await ownerProject(server, "dora");
  const bytes = testBytes(300_000, 7);
  await upload(server, projectId, bytes);
  const mail = await waitForMail(join(server.dataDir, "outbox"), "dora@example.org", /transect-7\.csv/);
  assert.match(mail.subject, /Upload finished: transect-7\.csv in Reef survey 2026/);
  assert.match(mail.text, /Reef survey 2026/);
  assert.match(mail.text, /Size: +300000 bytes \(293\.0 KiB\)/);
  assert.match(mail.text, new RegExp(`SHA-256: +${sha256Hex(bytes)}`));
  assert.match(mail.text, /Dive 3, left camera\.\nSecond line\./);
  assert.match(mail.text, new RegExp(`${server.httpsUrl}/api/projects/${projectId}/uploads/[0-9a-f]+/file`));
});

Deno.test("a mail server that hangs neither fails nor delays the upload; the failure is logged", async () => {
  await using logs = await captureLogs();
  // Accepts connections and never says a word, like a mail server stuck behind a firewall.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const connection of silent) held.push(connection);
  })();
  await using server = await startTestServer({ mail: { smtpUrl: `smtp://127.0.0.1:${silent.addr.port}` } });
  const projectId = await ownerProject(server, "erik");
  const started = performance.now();
  await upload(server, projectId, testBytes(1000, 3));
  assert.ok(performance.now() - started < 5_000, "the upload did not wait for the mail server");
  const [stored] = await server.records.dropoff.uploads(projectId);
  assert.notEqual(stored.finishedAt, null, "the upload finished");

  await until(() => held.length > 0);
  for (const connection of held) connection.close();
  silent.close();
  await accepting;
  await until(() => /could not email the owner/.test(logs.text()));
  assert.match(logs.text(), /error: could not email the owner about upload [0-9a-f]+ via SMTP smtp:\/\/127\.0\.0\.1:/);
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
