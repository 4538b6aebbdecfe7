/**
 * Encryption at rest: a project with an OpenPGP public key keeps finished
 * uploads only as `<id>.gpg`; the owner decrypts them with the private key
 * (openpgp and `gpg --decrypt`, as the README tells owners) and gets the
 * uploaded bytes. Ciphertext made in the browser is kept as sent, and
 * plaintext left by a crash after finishing is removed at the next start.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { createProject, createUpload, patch, sha256Hex, testBytes } from "../helpers/dropoff.ts";
import { decrypt, ownerKeys } from "../helpers/openpgp.ts";
import { basicAuth, startTestServer, type TestServer, writeUsersFile } from "../helpers/server.ts";

const MIB = 1024 * 1024;

/** Uploads `bytes` in two PATCHes; returns the upload id. */
async function upload(server: TestServer, projectId: string, bytes: Uint8Array): Promise<string> {
  const path = await createUpload(server.fetch, projectId, bytes.length);
  const half = Math.floor(bytes.length / 2);
  assert.equal((await patch(server.fetch, path, 0, bytes.slice(0, half))).status, 204);
  assert.equal((await patch(server.fetch, path, half, bytes.slice(half))).status, 204);
  return path.split("/").pop()!;
}

/** The owner's download of an upload. */
async function download(server: TestServer, projectId: string, uploadId: string): Promise<Uint8Array> {
  const response = await server.fetch(`/api/projects/${projectId}/uploads/${uploadId}/file`, { headers: basicAuth() });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-disposition")!, /\.gpg"$/);
  return new Uint8Array(await response.arrayBuffer());
}

/** Runs gpg with a throw-away keyring in `home`. */
async function gpg(home: string, ...args: string[]): Promise<void> {
  const output = await new Deno.Command("gpg", { args: ["--homedir", home, "--batch", ...args], stderr: "piped" })
    .output();
  assert.ok(output.success, `gpg ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
}

/** Decrypts as the README tells owners to: import the private key, `gpg --output … --decrypt <file>.gpg`. */
async function gpgDecrypt(ciphertext: Uint8Array, armoredPrivateKey: string): Promise<Uint8Array> {
  const home = await Deno.makeTempDir({ prefix: "fieldgate-gnupg-" });
  try {
    await Deno.writeTextFile(join(home, "owner.asc"), armoredPrivateKey);
    await Deno.writeFile(join(home, "upload.gpg"), ciphertext);
    await gpg(home, "--import", join(home, "owner.asc"));
    await gpg(home, "--output", join(home, "upload"), "--decrypt", join(home, "upload.gpg"));
    return await Deno.readFile(join(home, "upload"));
  } finally {
    // The agent gpg started for this keyring must not outlive the test.
    await new Deno.Command("gpgconf", { args: ["--homedir", home, "--kill", "gpg-agent"] }).output();
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("encryption at rest: only ciphertext stays on disk; the owner decrypts to the same bytes", async () => {
  await using server = await startTestServer();
  const keys = await ownerKeys();
  const project = await createProject(server.fetch, { publicKey: keys.publicKey });
  const bytes = testBytes(5 * MIB + 3, 21);
  const uploadId = await upload(server, project.id, bytes);

  const [listed] = await (await server.fetch(`/api/projects/${project.id}/uploads`, { headers: basicAuth() })).json();
  assert.equal(listed.sha256, sha256Hex(bytes), "the recorded checksum is the uploaded plaintext's");
  assert.equal(listed.diskName, `${project.id}/${uploadId}.gpg`);
  const uploads = join(server.dataDir, "uploads", project.id);
  assert.deepEqual((await Array.fromAsync(Deno.readDir(uploads))).map((entry) => entry.name), [`${uploadId}.gpg`]);

  const ciphertext = await download(server, project.id, uploadId);
  assert.deepEqual(ciphertext, await Deno.readFile(join(uploads, `${uploadId}.gpg`)));
  assert.equal(sha256Hex(await decrypt(ciphertext, keys.privateKey)), sha256Hex(bytes));
  assert.equal(sha256Hex(await gpgDecrypt(ciphertext, keys.privateKey)), sha256Hex(bytes));
});

Deno.test("encryption at rest: a file already encrypted to the project's key is kept as sent, not re-encrypted", async () => {
  await using server = await startTestServer();
  const keys = await ownerKeys();
  const project = await createProject(server.fetch, { publicKey: keys.publicKey });
  const plaintext = testBytes(MIB, 22);
  const message = await openpgp.createMessage({ binary: plaintext });
  const encryptionKeys = await openpgp.readKey({ armoredKey: keys.publicKey });
  const browserCiphertext = await openpgp.encrypt({ message, encryptionKeys, format: "binary" });
  const uploadId = await upload(server, project.id, browserCiphertext);

  assert.deepEqual(await download(server, project.id, uploadId), browserCiphertext);
  assert.equal(sha256Hex(await decrypt(browserCiphertext, keys.privateKey)), sha256Hex(plaintext));
});

Deno.test("encryption at rest: keys are checked; private keys are refused", async () => {
  await using server = await startTestServer();
  const keys = await ownerKeys();
  for (const publicKey of ["not a key", keys.privateKey]) {
    const response = await server.fetch("/api/projects", {
      method: "POST",
      headers: { ...basicAuth(), "content-type": "application/json" },
      body: JSON.stringify({ name: "bad key", publicKey }),
    });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /publicKey: (not an armored OpenPGP public key|that is a private key)/);
  }
});

Deno.test("encryption at rest: plaintext a crash left beside a finished upload's ciphertext goes at the next start", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-at-rest-" });
  try {
    await writeUsersFile(dataDir);
    const keys = await ownerKeys();
    let leftover: string;
    {
      await using server = await startTestServer({ dataDir });
      const project = await createProject(server.fetch, { publicKey: keys.publicKey });
      const uploadId = await upload(server, project.id, testBytes(MIB, 23));
      // The state a crash between "finished" and removing the plaintext leaves behind.
      leftover = join(dataDir, "uploads", project.id, uploadId);
      await Deno.writeFile(leftover, testBytes(MIB, 23));
    }
    await using _restarted = await startTestServer({ dataDir });
    await assert.rejects(Deno.stat(leftover), Deno.errors.NotFound);
    await Deno.stat(`${leftover}.gpg`);
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
