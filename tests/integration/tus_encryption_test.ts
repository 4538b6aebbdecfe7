/**
 * Encryption at rest: a project with an OpenPGP public key keeps finished
 * uploads only as `<id>.gpg`, sealed in the background after the last PATCH
 * is acknowledged; the owner decrypts them with the private key (openpgp and
 * `gpg --decrypt`, as the README tells owners) and gets the uploaded bytes.
 * Ciphertext made in the browser is kept as sent; after a crash, plaintext
 * beside complete ciphertext is removed and an unsealed upload is sealed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathExists } from "../../storage/blob_fs.ts";
import * as openpgp from "openpgp";
import { createProject, createUpload, patch, sha256Hex, testBytes, waitUntilEncrypted } from "../helpers/dropoff.ts";
import { decrypt, ownerKeys } from "../helpers/openpgp.ts";
import { basicAuth, startTestServer, type TestServer, writeUsersFile } from "../helpers/server.ts";

const MIB = 1024 * 1024;

/** Uploads `bytes` in two PATCHes and waits until the upload is sealed; returns the upload id. */
async function upload(server: TestServer, projectId: string, bytes: Uint8Array): Promise<string> {
  const uploadId = await uploadPlain(server, projectId, bytes);
  await waitUntilEncrypted(server.fetch, projectId, uploadId);
  return uploadId;
}

/** Uploads `bytes` in two PATCHes, both acknowledged; returns the upload id. */
async function uploadPlain(server: TestServer, projectId: string, bytes: Uint8Array): Promise<string> {
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

Deno.test("encryption at rest: a finished upload a crash left unsealed is sealed at the next start, then announced", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-at-rest-" });
  const notices: { name: string | null; payload: { Upload: { ID: string; Storage: { Path: string } } } }[] = [];
  const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    notices.push({ name: request.headers.get("hook-name"), payload: await request.json() });
    return new Response(null);
  });
  try {
    await writeUsersFile(dataDir);
    const keys = await ownerKeys();
    const bytes = testBytes(MIB + 5, 24);
    let projectId: string;
    let uploadId: string;
    {
      await using server = await startTestServer({ dataDir });
      projectId = (await createProject(server.fetch, { publicKey: keys.publicKey })).id;
      uploadId = await upload(server, projectId, bytes);
    }
    // What a crash after the last PATCH's acknowledgement leaves: the finished upload in plaintext,
    // and the encryption cut off half way.
    const plaintext = join(dataDir, "uploads", projectId, uploadId);
    await Deno.writeFile(plaintext, bytes);
    await Deno.remove(`${plaintext}.gpg`);
    await Deno.writeFile(`${plaintext}.gpg.partial`, testBytes(1000, 25));

    await using server = await startTestServer({ dataDir, tus: { hookUrl: `http://127.0.0.1:${hook.addr.port}/` } });
    const entry = await waitUntilEncrypted(server.fetch, projectId, uploadId);
    assert.equal(entry.sha256, sha256Hex(bytes));
    const onDisk = await Array.fromAsync(Deno.readDir(join(dataDir, "uploads", projectId)));
    assert.deepEqual(onDisk.map((file) => file.name), [`${uploadId}.gpg`]);
    assert.equal(
      sha256Hex(await decrypt(await download(server, projectId, uploadId), keys.privateKey)),
      sha256Hex(bytes),
    );
    for (let waited = 0; notices.length === 0 && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(notices.map(({ name, payload }) => [name, payload.Upload.ID, payload.Upload.Storage.Path]), [
      ["post-finish", uploadId, `${plaintext}.gpg`],
    ]);
  } finally {
    await hook.shutdown();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("encryption at rest: a stop during sealing leaves no partial ciphertext, and the next start seals", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-at-rest-" });
  try {
    await writeUsersFile(dataDir);
    const keys = await ownerKeys();
    // Large enough that sealing (about 90 MiB/s here) is still running when the server stops.
    const bytes = testBytes(64 * MIB, 26);
    let projectId: string;
    let uploadId: string;
    {
      await using server = await startTestServer({ dataDir });
      projectId = (await createProject(server.fetch, { publicKey: keys.publicKey })).id;
      uploadId = await uploadPlain(server, projectId, bytes);
    }
    const names = (await Array.fromAsync(Deno.readDir(join(dataDir, "uploads", projectId)))).map((file) => file.name);
    assert.ok(!names.includes(`${uploadId}.gpg.partial`), `left: ${names}`);
    assert.ok(names.includes(uploadId) || names.includes(`${uploadId}.gpg`), `neither copy: ${names}`);

    await using server = await startTestServer({ dataDir });
    await waitUntilEncrypted(server.fetch, projectId, uploadId);
    // The listing says encrypted once the .gpg is complete; the sealer removes the plaintext right after.
    const plaintext = join(dataDir, "uploads", projectId, uploadId);
    for (const deadline = Date.now() + 10_000; await pathExists(plaintext) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const onDisk = await Array.fromAsync(Deno.readDir(join(dataDir, "uploads", projectId)));
    assert.deepEqual(onDisk.map((file) => file.name), [`${uploadId}.gpg`]);
    assert.equal(
      sha256Hex(await decrypt(await download(server, projectId, uploadId), keys.privateKey)),
      sha256Hex(bytes),
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
