/**
 * tus-js-client (the client Uppy uses) against fieldgate: 1 B, 5 MiB, ~50 MiB
 * and 1 GiB in chunks, the larger ones aborted mid-chunk and resumed from the
 * upload URL.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import * as tusClient from "tus-js-client";
import { createProject, metadata, sha256Hex, testBytes } from "../helpers/dropoff.ts";
import { basicAuth, startTestServer, type TestServer } from "../helpers/server.ts";

interface Outcome {
  url: string;
  /** Offsets tus-js-client resumed from after each forced interruption. */
  resumedAt: number[];
}

/**
 * Uploads `bytes`; each time the bytes sent pass the next of `interruptAt`,
 * aborts mid-chunk and resumes with a new client from the upload URL.
 */
function upload(endpoint: string, bytes: Uint8Array, chunkSize: number, interruptAt: number[]): Promise<Outcome> {
  const resumedAt: number[] = [];
  const pending = [...interruptAt];
  return new Promise((resolve, reject) => {
    const start = (uploadUrl: string | null) => {
      let interrupted = false;
      // A view, not a copy: the 1 GiB case would otherwise hold the file twice.
      const client: tusClient.Upload = new tusClient.Upload(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), {
        endpoint,
        uploadUrl,
        chunkSize,
        retryDelays: [0, 100, 500],
        metadata: { filename: "sample.bin", note: "from the field" },
        onProgress: (sent) => {
          if (!interrupted && pending.length > 0 && sent >= pending[0]) {
            interrupted = true;
            pending.shift();
            // abort() tears down the request mid-body: the server keeps what reached disk.
            client.abort().then(() => setTimeout(() => start(client.url), 50));
          }
        },
        onAfterResponse: (request, response) => {
          if (request.getMethod() === "HEAD") resumedAt.push(Number(response.getHeader("Upload-Offset")));
        },
        onError: reject,
        onSuccess: () => resolve({ url: client.url!, resumedAt }),
      });
      client.start();
    };
    start(null);
  });
}

/** The server recorded the bytes' sha256, size and note, and the owner's download hashes the same. */
async function verify(server: TestServer, projectId: string, url: string, bytes: Uint8Array): Promise<void> {
  const uploadId = url.split("/").pop();
  const listed = await (await server.fetch(`/api/projects/${projectId}/uploads`, { headers: basicAuth() })).json();
  const entry = listed.find((item: { id: string }) => item.id === uploadId);
  assert.equal(entry.sha256, sha256Hex(bytes));
  assert.equal(entry.size, bytes.length);
  assert.equal(entry.note, "from the field");
  const download = await server.fetch(`/api/projects/${projectId}/uploads/${uploadId}/file`, { headers: basicAuth() });
  const hash = createHash("sha256");
  for await (const chunk of download.body!) hash.update(chunk);
  assert.equal(hash.digest("hex"), entry.sha256);
}

Deno.test("tus-js-client uploads 1 B, 5 MiB and 50 MiB with interruptions; checksums match", async () => {
  await using server = await startTestServer();
  const project = await createProject(server.fetch);
  const endpoint = `${server.httpUrl}/files/${project.id}/`;
  const cases = [
    { size: 1, chunk: 1024, interruptAt: [] },
    { size: 5 * 1024 ** 2, chunk: 1024 ** 2, interruptAt: [2.5 * 1024 ** 2] },
    { size: 50 * 1024 ** 2 + 7, chunk: 8 * 1024 ** 2, interruptAt: [20 * 1024 ** 2] },
  ];
  for (const { size, chunk, interruptAt } of cases) {
    const bytes = testBytes(size, size);
    const outcome = await upload(endpoint, bytes, chunk, interruptAt);
    await verify(server, project.id, outcome.url, bytes);
    // A resume that meets the aborted PATCH still holding its lock gets 409 and asks HEAD once more.
    assert.ok(outcome.resumedAt.length >= interruptAt.length, "resumed with HEAD after each interruption");
    if (interruptAt.length > 0) console.log(`${size} B: resumed at ${outcome.resumedAt.join(", ")}`);
  }
});

Deno.test("tus-js-client uploads 1 GiB in 64 MiB chunks, interrupted twice; checksums match", async () => {
  await using server = await startTestServer();
  const project = await createProject(server.fetch);
  const size = 1024 ** 3;
  const bytes = testBytes(size, 1024);
  const interruptAt = [300 * 1024 ** 2, 700 * 1024 ** 2];
  const outcome = await upload(`${server.httpUrl}/files/${project.id}/`, bytes, 64 * 1024 ** 2, interruptAt);
  await verify(server, project.id, outcome.url, bytes);
  assert.ok(outcome.resumedAt.length >= 2, "resumed with HEAD after each interruption");
  assert.ok(outcome.resumedAt.every((offset) => offset > 0 && offset < size), "each resume kept bytes already sent");
  console.log(`1 GiB: resumed at ${outcome.resumedAt.join(", ")}`);
});

Deno.test("tus-js-client: upload code accepted, metadata round trip, the URL's project bound server-side", async () => {
  await using server = await startTestServer();
  const project = await createProject(server.fetch, { code: "c0de" });
  const bytes = testBytes(1000);
  const outcome = await new Promise<string>((resolve, reject) => {
    const client: tusClient.Upload = new tusClient.Upload(Buffer.from(bytes), {
      endpoint: `${server.httpUrl}/files/${project.id}/`,
      // A client trying to move its upload into another project: the URL's project wins.
      metadata: { filename: "x.txt", code: "c0de", project: crypto.randomUUID() },
      onError: reject,
      onSuccess: () => resolve(client.url!),
    });
    client.start();
  });
  const head = await fetch(new URL(outcome, server.httpUrl!), {
    method: "HEAD",
    headers: { "Tus-Resumable": "1.0.0" },
  });
  assert.equal(head.headers.get("upload-metadata"), metadata({ filename: "x.txt", project: project.id }));
});
