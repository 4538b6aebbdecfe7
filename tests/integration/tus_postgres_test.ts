import assert from "node:assert/strict";
import { childFetch } from "../helpers/child_fetch.ts";
import { createProject, createUpload, headOffset, patch, sha256Hex, testBytes, tus } from "../helpers/dropoff.ts";
import { createTestDatabase } from "../helpers/postgres.ts";
import { basicAuth, type ChildServer, spawnServer, startTestServer, writeUsersFile } from "../helpers/server.ts";

Deno.test("tus on PostgreSQL: an upload started on instance A resumes on instance B", async () => {
  await withTwoInstances(async (onA, onB) => {
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
  });
});

Deno.test("tus on PostgreSQL: more stalled PATCHes than pool connections do not freeze other requests", async () => {
  const database = await createTestDatabase();
  try {
    await using server = await startTestServer({ databaseUrl: database.url });
    const project = await createProject(server.fetch);
    const stalled: ReadableStreamDefaultController<Uint8Array>[] = [];
    const patches: Promise<Response>[] = [];
    for (let i = 0; i < 12; i++) {
      const upload = await createUpload(server.fetch, project.id, 10);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          stalled.push(controller);
          controller.enqueue(new Uint8Array(5));
        },
      });
      patches.push(patch(server.fetch, upload, 0, body));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const status = await server.fetch("/server-status?format=json", {
      headers: basicAuth(),
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(status.status, 200, "the database still answers other requests");
    await status.body?.cancel();
    for (const controller of stalled) {
      controller.enqueue(new Uint8Array(5));
      controller.close();
    }
    for (const response of await Promise.all(patches)) assert.equal(response.status, 204);
  } finally {
    await database.drop();
  }
});

Deno.test("tus on PostgreSQL: simultaneous creations on two instances cannot together exceed a project's quota", async () => {
  await withTwoInstances(async (onA, onB) => {
    const project = await createProject(onA.fetch, { quotaBytes: 100 });
    // Connections up first, so the creations really arrive at both instances together.
    for (const { fetch } of [onA, onB]) await (await fetch("/ping")).body?.cancel();
    const statuses = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const response = await (i % 2 ? onB : onA).fetch(`/files/${project.id}/`, {
          method: "POST",
          headers: tus({ "Upload-Length": "60" }),
        });
        await response.body?.cancel();
        return response.status;
      }),
    );
    assert.deepEqual(statuses.toSorted(), [201, 413, 413, 413, 413, 413]);
  });
});

type InstanceFetch = Awaited<ReturnType<typeof childFetch>>;

/** Two fieldgate processes on one fresh PostgreSQL database and one data directory, stopped and removed afterwards. */
async function withTwoInstances(test: (onA: InstanceFetch, onB: InstanceFetch) => Promise<void>): Promise<void> {
  const database = await createTestDatabase();
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-tus-pg-" });
  const servers: ChildServer[] = [];
  const clients: InstanceFetch[] = [];
  try {
    await writeUsersFile(dataDir);
    for (let i = 0; i < 2; i++) {
      servers.push(await spawnServer(dataDir, ["--database-url", database.url]));
      clients.push(await childFetch(servers[i], dataDir));
    }
    await test(clients[0], clients[1]);
  } finally {
    for (const client of clients) client.close();
    for (const server of servers) {
      server.process.kill("SIGTERM");
      await server.exited;
    }
    await database.drop();
    await Deno.remove(dataDir, { recursive: true });
  }
}
