/**
 * tus concatenation: tus-js-client's `parallelUploads` (partials sent at
 * once, then the final) end to end, and the edge cases by hand: unfinished
 * or foreign partials, PATCH to a final, HEAD's `Upload-Concat`, discovery,
 * hooks fired for the final alone and the quota counting the bytes once.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as tusClient from "tus-js-client";
import {
  createProject,
  createUpload,
  metadata,
  patch,
  type ServerFetch,
  sha256Hex,
  testBytes,
  tus,
  waitUntilEncrypted,
} from "../helpers/dropoff.ts";
import { decrypt, ownerKeys } from "../helpers/openpgp.ts";
import { createTestDatabase } from "../helpers/postgres.ts";
import { basicAuth, startTestServer } from "../helpers/server.ts";

/** A finished partial upload of `bytes`; returns its URL path. */
async function finishedPartial(
  fetch: ServerFetch,
  projectId: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const path = await createUpload(fetch, projectId, bytes.length, { "Upload-Concat": "partial" });
  assert.equal((await patch(fetch, path, 0, bytes)).status, 204);
  return path;
}

/** POSTs a final upload made of `parts`; returns the response with its body read. */
async function createFinal(fetch: ServerFetch, projectId: string, parts: string[], extra: Record<string, string> = {}) {
  const response = await fetch(`/files/${projectId}/`, {
    method: "POST",
    headers: tus({ "Upload-Concat": `final;${parts.join(" ")}`, ...extra }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function head(fetch: ServerFetch, path: string): Promise<Response> {
  const response = await fetch(path, { method: "HEAD", headers: tus() });
  await response.body?.cancel();
  return response;
}

/** tus-js-client with `parallelUploads: 3` into a server on `overrides`' record store; checks what the owner gets. */
async function parallelUpload(overrides: Record<string, unknown>): Promise<void> {
  await using server = await startTestServer(overrides);
  const bytes = testBytes(5 * 1024 ** 2, 5);
  // The quota fits the file exactly: the final taking over its partials' bytes must not count them twice.
  const project = await createProject(server.fetch, { quotaBytes: bytes.length, allowedTypes: ["bin"], code: "c0de" });
  const concats: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const client: tusClient.Upload = new tusClient.Upload(Buffer.from(bytes), {
      endpoint: `${server.httpUrl}/files/${project.id}/`,
      parallelUploads: 3,
      chunkSize: 1024 ** 2,
      metadata: { filename: "sample.bin", note: "in parallel", code: "c0de" },
      // Partials are uploads of the project too: they need the code (tus-js-client sends them no other metadata).
      metadataForPartialUploads: { code: "c0de" },
      onBeforeRequest: (request) => {
        const concat = request.getHeader("Upload-Concat");
        if (request.getMethod() === "POST" && concat) concats.push(concat.split(";")[0]);
      },
      onError: reject,
      onSuccess: () => resolve(client.url!),
    });
    client.start();
  });
  assert.deepEqual(concats, ["partial", "partial", "partial", "final"]);

  const listed = await (await server.fetch(`/api/projects/${project.id}/uploads`, { headers: basicAuth() })).json();
  // The partials are gone once the final is finished: the owner sees one file.
  assert.equal(listed.length, 1);
  const [entry] = listed;
  assert.equal(entry.id, url.split("/").pop());
  assert.deepEqual([entry.size, entry.sha256, entry.filename, entry.complete], [
    bytes.length,
    sha256Hex(bytes),
    "sample.bin",
    true,
  ]);
  const download = await server.fetch(`/api/projects/${project.id}/uploads/${entry.id}/file`, {
    headers: basicAuth(),
  });
  assert.equal(sha256Hex(new Uint8Array(await download.arrayBuffer())), sha256Hex(bytes));
  const onDisk = [...Deno.readDirSync(`${server.dataDir}/uploads/${project.id}`)].map((file) => file.name);
  assert.deepEqual(onDisk, [entry.id]);

  const final = await head(server.fetch, new URL(url).pathname);
  assert.match(final.headers.get("upload-concat")!, new RegExp(`^final;(/files/${project.id}/[0-9a-f]{32} ?){3}$`));
  assert.equal(final.headers.get("upload-offset"), String(bytes.length));
  // Full: one more byte is over the quota.
  const over = await server.fetch(`/files/${project.id}/`, {
    method: "POST",
    headers: tus({ "Upload-Length": "1", "Upload-Code": "c0de" }),
  });
  await over.body?.cancel();
  assert.equal(over.status, 413);
}

Deno.test("tus-js-client parallelUploads on SQLite: 3 partials and a final; sha256 matches, quota counted once", () =>
  parallelUpload({}));

Deno.test("tus-js-client parallelUploads on PostgreSQL: the same through the PostgreSQL store", async () => {
  const database = await createTestDatabase();
  try {
    await parallelUpload({ databaseUrl: database.url });
  } finally {
    await database.drop();
  }
});

Deno.test("tus concatenation edge cases by hand: discovery, HEAD, refused finals, PATCH to a final", async () => {
  const hookCalls: { name: string | null; isPartial: boolean; isFinal: boolean }[] = [];
  const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const payload = await request.json();
    hookCalls.push({
      name: request.headers.get("hook-name"),
      isPartial: payload.Upload.IsPartial,
      isFinal: payload.Upload.IsFinal,
    });
    return new Response(null, { status: 200 });
  });
  try {
    await using server = await startTestServer({ tus: { hookUrl: `http://127.0.0.1:${hook.addr.port}/hook/` } });
    const { fetch } = server;
    const project = await createProject(fetch);
    const other = await createProject(fetch);

    const options = await fetch(`/files/${project.id}/`, { method: "OPTIONS" });
    await options.body?.cancel();
    assert.ok(options.headers.get("tus-extension")!.split(",").includes("concatenation"));

    const first = await finishedPartial(fetch, project.id, testBytes(1000, 1));
    const second = await finishedPartial(fetch, project.id, testBytes(777, 2));
    const partial = await head(fetch, first);
    assert.equal(partial.headers.get("upload-concat"), "partial");
    assert.ok(partial.headers.get("upload-expires"), "a finished partial still expires until a final takes it");
    const unfinished = await createUpload(fetch, project.id, 10, { "Upload-Concat": "partial" });
    const ordinary = await createUpload(fetch, project.id, 0);
    const foreign = await finishedPartial(fetch, other.id, testBytes(5, 3));

    const refusals: [string[], Record<string, string>, RegExp][] = [
      [[first, unfinished], {}, /is not finished yet/],
      [[first, foreign], {}, /is not an upload of this project/],
      [[first, foreign.replace(other.id, project.id)], {}, /no such partial upload/],
      [[first, ordinary], {}, /not created with Upload-Concat: partial/],
      [[first, first], {}, /listed twice/],
      [[first, second], { "Upload-Length": "1777" }, /send no Upload-Length/],
      [["/etc/passwd"], {}, /is not an upload of this project/],
    ];
    for (const [parts, extra, reason] of refusals) {
      const refused = await createFinal(fetch, project.id, parts, extra);
      assert.equal(refused.status, 400, `${parts}: ${refused.text}`);
      assert.match(refused.text, reason);
    }
    const malformed = await fetch(`/files/${project.id}/`, {
      method: "POST",
      headers: tus({ "Upload-Concat": "whole", "Upload-Length": "1" }),
    });
    assert.equal(malformed.status, 400);
    assert.match(await malformed.text(), /partial` or `final/);

    // Absolute URLs name partials as well as paths do.
    const created = await createFinal(fetch, project.id, [`${server.httpUrl}${first}`, second]);
    assert.equal(created.status, 201, created.text);
    const final = created.headers.get("location")!;
    const state = await head(fetch, final);
    assert.equal(state.status, 200);
    assert.equal(state.headers.get("upload-concat"), `final;${first} ${second}`);
    assert.equal(state.headers.get("upload-length"), "1777");
    assert.equal(state.headers.get("upload-offset"), "1777");
    const listed = await (await fetch(`/api/projects/${project.id}/uploads`, { headers: basicAuth() })).json();
    const entry = listed.find((upload: { id: string }) => upload.id === final.split("/").pop());
    assert.equal(entry.sha256, sha256Hex(new Uint8Array([...testBytes(1000, 1), ...testBytes(777, 2)])));

    assert.equal((await patch(fetch, final, 1777, "x")).status, 403);
    // The partials were taken: they are gone, and cannot make a second final.
    assert.equal((await head(fetch, first)).status, 404);
    assert.equal((await createFinal(fetch, project.id, [first, second])).status, 400);

    // Post-finish went to the back end for the final and the ordinary empty upload, never for a partial.
    const deadline = Date.now() + 5000;
    while (hookCalls.filter((call) => call.name === "post-finish").length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const finishes = hookCalls.filter((call) => call.name === "post-finish");
    assert.deepEqual(finishes.map((call) => call.isFinal).sort(), [false, true]);
    assert.ok(finishes.every((call) => !call.isPartial));
    assert.ok(hookCalls.some((call) => call.name === "pre-create" && call.isPartial));
  } finally {
    await hook.shutdown();
  }
});

Deno.test("tus concatenation: a project's metadata rules apply to the final, partials need no file name", async () => {
  await using server = await startTestServer();
  const project = await createProject(server.fetch, { allowedTypes: ["csv"] });
  const part = await finishedPartial(server.fetch, project.id, testBytes(10));
  const wrongType = await createFinal(server.fetch, project.id, [part], {
    "Upload-Metadata": metadata({ filename: "x.exe" }),
  });
  assert.equal(wrongType.status, 403, wrongType.text);
  const allowed = await createFinal(server.fetch, project.id, [part], {
    "Upload-Metadata": metadata({ filename: "x.csv" }),
  });
  assert.equal(allowed.status, 201, allowed.text);
});

Deno.test("tus concatenation: a project with a public key keeps only the final's ciphertext", async () => {
  await using server = await startTestServer();
  const keys = await ownerKeys();
  const project = await createProject(server.fetch, { publicKey: keys.publicKey });
  const pieces = [testBytes(300_000, 31), testBytes(123_457, 32)];
  const parts = [];
  for (const bytes of pieces) parts.push(await finishedPartial(server.fetch, project.id, bytes));
  const created = await createFinal(server.fetch, project.id, parts);
  assert.equal(created.status, 201, created.text);
  const finalId = created.headers.get("location")!.split("/").pop()!;
  await waitUntilEncrypted(server.fetch, project.id, finalId);

  const onDisk = [...Deno.readDirSync(`${server.dataDir}/uploads/${project.id}`)].map((file) => file.name);
  assert.deepEqual(onDisk, [`${finalId}.gpg`], "no plaintext left: neither the final's nor the partials'");
  const download = await server.fetch(`/api/projects/${project.id}/uploads/${finalId}/file`, { headers: basicAuth() });
  const plaintext = await decrypt(new Uint8Array(await download.arrayBuffer()), keys.privateKey);
  assert.equal(sha256Hex(plaintext), sha256Hex(new Uint8Array([...pieces[0], ...pieces[1]])));
});

Deno.test("tus concatenation: a finished partial no final took expires and the cleanup removes it", async () => {
  await using server = await startTestServer({ tus: { expireSeconds: 0.2, cleanupIntervalSeconds: 0.2 } });
  const { id } = await createProject(server.fetch);
  const partial = await finishedPartial(server.fetch, id, testBytes(3));
  const finished = await createUpload(server.fetch, id, 2);
  assert.equal((await patch(server.fetch, finished, 0, "ok")).status, 204);
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.equal((await head(server.fetch, partial)).status, 404);
  const left = [...Deno.readDirSync(`${server.dataDir}/uploads/${id}`)].map((entry) => entry.name);
  assert.deepEqual(left, [finished.split("/").pop()]);
});
