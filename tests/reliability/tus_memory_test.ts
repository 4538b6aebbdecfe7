/**
 * Memory stays flat during a large upload: a 300 MiB PATCH streams into a
 * child server while its RSS is sampled from /proc. A server buffering the
 * body would grow by the body's size.
 */
import assert from "node:assert/strict";
import { childFetch } from "../helpers/child_fetch.ts";
import { createProject, createUpload, patch, testBytes } from "../helpers/dropoff.ts";
import { spawnServer, writeUsersFile } from "../helpers/server.ts";

const SIZE = 300 * 1024 * 1024;
const PIECE = testBytes(1024 * 1024, 3);

async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

Deno.test("tus memory: RSS stays flat while a 300 MiB PATCH streams to disk", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-tus-rss-" });
  await writeUsersFile(dataDir);
  const server = await spawnServer(dataDir);
  const { fetch, close } = await childFetch(server, dataDir);
  try {
    const { id } = await createProject(fetch);
    const upload = await createUpload(fetch, id, SIZE);
    const before = await rssMiB(server.process.pid);
    let peak = before;
    const sampler = setInterval(async () => peak = Math.max(peak, await rssMiB(server.process.pid)), 50);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= SIZE) return controller.close();
        controller.enqueue(PIECE.slice());
        sent += PIECE.length;
      },
    });
    const started = performance.now();
    const response = await patch(fetch, upload, 0, body);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    assert.equal(response.headers.get("upload-offset"), String(SIZE));
    console.log(
      `RSS ${before.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB during a ${SIZE / 2 ** 20} MiB upload ` +
        `(${(SIZE / 2 ** 20 / seconds).toFixed(0)} MiB/s over HTTPS incl. fsync and the final SHA-256)`,
    );
    assert.ok(peak - before < 100, `RSS grew by ${(peak - before).toFixed(0)} MiB`);
  } finally {
    close();
    server.process.kill("SIGTERM");
    await server.exited;
    await Deno.remove(dataDir, { recursive: true });
  }
});
