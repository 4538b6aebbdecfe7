import assert from "node:assert/strict";
import { childFetch } from "../helpers/child_fetch.ts";
import { createProject, createUpload, headOffset, patch, sha256Hex, testBytes } from "../helpers/dropoff.ts";
import { createTestDatabase } from "../helpers/postgres.ts";
import { basicAuth, spawnServer, writeUsersFile } from "../helpers/server.ts";

Deno.test("tus on PostgreSQL: an upload started on instance A resumes on instance B", async () => {
  const database = await createTestDatabase();
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-tus-pg-" });
  await writeUsersFile(dataDir);
  const args = ["--database-url", database.url];
  const a = await spawnServer(dataDir, args);
  const b = await spawnServer(dataDir, args);
  const [onA, onB] = [await childFetch(a, dataDir), await childFetch(b, dataDir)];
  try {
    const bytes = testBytes(3 * 1024 * 1024 + 1);
    const project = await createProject(onA.fetch);
    const upload = await createUpload(onA.fetch, project.id, bytes.length);
    assert.equal((await patch(onA.fetch, upload, 0, bytes.slice(0, 1024 * 1024))).status, 204);

    const mib = 1024 * 1024;
    assert.equal(await headOffset(onB.fetch, upload), mib);
    assert.equal((await patch(onB.fetch, upload, 0, bytes.slice(0, 10))).status, 409);

    // While A is inside a PATCH, B refuses a PATCH to the same upload (advisory lock), never interleaving.
    let slow!: ReadableStreamDefaultController<Uint8Array>;
    const slowBody = new ReadableStream<Uint8Array>({
      start(controller) {
        slow = controller;
        controller.enqueue(bytes.slice(mib, mib + 1000));
      },
    });
    const pending = patch(onA.fetch, upload, mib, slowBody);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await patch(onB.fetch, upload, mib, bytes.slice(mib))).status, 409);
    slow.close();
    assert.equal((await pending).headers.get("upload-offset"), String(mib + 1000));

    assert.equal((await patch(onB.fetch, upload, mib + 1000, bytes.slice(mib + 1000))).status, 204);

    const listed = await (await onA.fetch(`/api/projects/${project.id}/uploads`, { headers: basicAuth() })).json();
    assert.equal(listed[0].sha256, sha256Hex(bytes));
    assert.equal(listed[0].complete, true);
  } finally {
    onA.close();
    onB.close();
    for (const server of [a, b]) {
      server.process.kill("SIGTERM");
      await server.exited;
    }
    await database.drop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
