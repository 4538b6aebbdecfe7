/**
 * tus-js-client (the client Uppy uses) against fieldgate: 1 B, 5 MiB and
 * ~50 MiB in chunks, the larger ones aborted mid-chunk and resumed from the
 * upload URL. 1 GiB is left to the bench: it would take CI minutes for
 * nothing a 50 MiB upload in 8 MiB chunks does not already exercise.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as tusClient from "tus-js-client";
import { createProject, metadata, sha256Hex, testBytes } from "../helpers/dropoff.ts";
import { basicAuth, startTestServer, type TestServer } from "../helpers/server.ts";

interface Outcome {
  url: string;
  /** Offsets tus-js-client resumed from after each forced interruption. */
  resumedAt: number[];
}

/** Uploads `bytes`; after `interruptAt` bytes were sent, aborts once and resumes with a new client from the URL. */
function upload(endpoint: string, bytes: Uint8Array, chunkSize: number, interruptAt: number | null): Promise<Outcome> {
  const resumedAt: number[] = [];
  return new Promise((resolve, reject) => {
    const start = (uploadUrl: string | null, interrupt: boolean) => {
      const client: tusClient.Upload = new tusClient.Upload(Buffer.from(bytes), {
        endpoint,
        uploadUrl,
        chunkSize,
        retryDelays: [0, 100, 500],
        metadata: { filename: "sample.bin", note: "from the field" },
        onProgress: (sent) => {
          if (interrupt && interruptAt !== null && sent >= interruptAt) {
            interrupt = false;
            // abort() tears down the request mid-body: the server keeps what reached disk.
            client.abort().then(() => setTimeout(() => start(client.url, false), 50));
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
    start(null, true);
  });
}

async function verify(server: TestServer, projectId: string, url: string, bytes: Uint8Array): Promise<void> {
  const uploadId = url.split("/").pop();
  const listed = await (await server.fetch(`/api/projects/${projectId}/uploads`, { headers: basicAuth() })).json();
  const entry = listed.find((item: { id: string }) => item.id === uploadId);
  assert.equal(entry.sha256, sha256Hex(bytes));
  assert.equal(entry.size, bytes.length);
  assert.equal(entry.note, "from the field");
  const download = await server.fetch(`/api/projects/${projectId}/uploads/${uploadId}/file`, { headers: basicAuth() });
  assert.equal(sha256Hex(new Uint8Array(await download.arrayBuffer())), entry.sha256);
}

Deno.test("tus-js-client uploads 1 B, 5 MiB and 50 MiB with interruptions; checksums match", async () => {
  await using server = await startTestServer();
  const project = await createProject(server.fetch);
  const endpoint = `${server.httpUrl}/files/${project.id}/`;
  const cases = [
    { size: 1, chunk: 1024, interruptAt: null },
    { size: 5 * 1024 ** 2, chunk: 1024 ** 2, interruptAt: 2.5 * 1024 ** 2 },
    { size: 50 * 1024 ** 2 + 7, chunk: 8 * 1024 ** 2, interruptAt: 20 * 1024 ** 2 },
  ];
  for (const { size, chunk, interruptAt } of cases) {
    const bytes = testBytes(size, size);
    const outcome = await upload(endpoint, bytes, chunk, interruptAt);
    await verify(server, project.id, outcome.url, bytes);
    if (interruptAt !== null) {
      assert.ok(outcome.resumedAt.length > 0, "resumed with HEAD");
      console.log(`${size} B: resumed at ${outcome.resumedAt.join(", ")}`);
    }
  }
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
