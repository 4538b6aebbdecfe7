/**
 * kill -9 while a final upload is being concatenated: after the restart the
 * final is never finished with a short file, the partials are still there,
 * and the same final can be created again, complete and intact.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { TusFileStore } from "../../storage/tus_files.ts";
import { childFetch } from "../helpers/child_fetch.ts";
import { createProject, createUpload, patch, type ServerFetch, testBytes, tus } from "../helpers/dropoff.ts";
import { basicAuth, type ChildServer, spawnServer, writeUsersFile } from "../helpers/server.ts";

/** Two partials this large take the copy long enough (page cache, then fsync) to be caught in the middle. */
const PART_BYTES = 32 * 1024 * 1024;

async function stop(server: ChildServer, signal: Deno.Signal): Promise<void> {
  server.process.kill(signal);
  await server.exited;
}

/** Polls the project's upload directory until a file other than `known` has bytes; returns its name. */
async function growingFile(directory: string, known: string[]): Promise<string> {
  for (;;) {
    for await (const entry of Deno.readDir(directory)) {
      if (known.includes(entry.name)) continue;
      const size = await Deno.stat(`${directory}/${entry.name}`).then((info) => info.size, () => 0);
      if (size > 0) return entry.name;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function createFinal(fetch: ServerFetch, projectId: string, parts: string[]): Promise<Response> {
  return fetch(`/files/${projectId}/`, {
    method: "POST",
    headers: tus({ "Upload-Concat": `final;${parts.join(" ")}` }),
  });
}

Deno.test("tus concatenation crash: kill -9 mid-copy never leaves a short final recorded finished", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-tus-concat-crash-" });
  await writeUsersFile(dataDir);
  const parts = [testBytes(PART_BYTES, 11), testBytes(PART_BYTES, 12)];
  const expected = parts.reduce((hash, bytes) => hash.update(bytes), createHash("sha256")).digest("hex");
  try {
    const first = await spawnServer(dataDir);
    const { fetch, close } = await childFetch(first, dataDir);
    const projectId = (await createProject(fetch)).id;
    const partPaths: string[] = [];
    for (const bytes of parts) {
      const path = await createUpload(fetch, projectId, bytes.length, { "Upload-Concat": "partial" });
      assert.equal((await patch(fetch, path, 0, bytes)).status, 204);
      partPaths.push(path);
    }
    const directory = `${dataDir}/uploads/${projectId}`;
    const pending = createFinal(fetch, projectId, partPaths).then((response) => response.body?.cancel(), () => {});
    const finalName = await growingFile(directory, partPaths.map((path) => path.split("/").pop()!));
    const sizeAtKill = (await Deno.stat(`${directory}/${finalName}`)).size;
    await stop(first, "SIGKILL");
    await pending;
    close();
    console.log(`killed with the final's file at ${sizeAtKill} of ${2 * PART_BYTES} bytes`);

    const second = await spawnServer(dataDir);
    const restarted = await childFetch(second, dataDir);
    try {
      const listed = await (await restarted.fetch(`/api/projects/${projectId}/uploads`, { headers: basicAuth() }))
        .json();
      const final = listed.find((upload: { id: string }) => upload.id === finalName);
      // Finished means complete: a final recorded finished has every byte, whatever moment the kill hit.
      if (final?.complete) {
        assert.equal(await new TusFileStore(`${dataDir}/uploads`).sha256(projectId, finalName), expected);
      } else assert.ok(final === undefined || final.sha256 === null);

      const again = await createFinal(restarted.fetch, projectId, partPaths);
      await again.body?.cancel();
      if (final?.complete) {
        assert.equal(again.status, 400, "the partials went with the finished final");
      } else {
        assert.equal(again.status, 201);
        const id = again.headers.get("location")!.split("/").pop();
        const [entry] = (await (await restarted.fetch(`/api/projects/${projectId}/uploads`, { headers: basicAuth() }))
          .json()).filter((upload: { id: string }) => upload.id === id);
        assert.deepEqual([entry.complete, entry.size, entry.sha256], [true, 2 * PART_BYTES, expected]);
      }
    } finally {
      restarted.close();
      await stop(second, "SIGTERM");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
