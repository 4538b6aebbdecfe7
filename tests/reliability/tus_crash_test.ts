/**
 * kill -9 in the middle of PATCHes: after each restart HEAD reports an offset
 * at least the last acknowledged one and at most the bytes on disk, and the
 * upload completes with the right checksum.
 */
import assert from "node:assert/strict";
import { childFetch } from "../helpers/child_fetch.ts";
import { crashRounds } from "../helpers/crash_rounds.ts";
import { createProject, createUpload, headOffset, patch, sha256Hex, testBytes } from "../helpers/dropoff.ts";
import { basicAuth, spawnServer, writeUsersFile } from "../helpers/server.ts";

const CHUNK = 512 * 1024;

Deno.test("tus crash: kill -9 mid-PATCH, restart, HEAD offset ≤ bytes durable, upload completes intact", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-tus-crash-" });
  await writeUsersFile(dataDir);
  const bytes = testBytes(48 * 1024 * 1024, 7);
  let projectId = "";
  let upload = "";
  let acknowledged = 0;
  const checkDurable = async (offset: number) => {
    const file = await Deno.readFile(`${dataDir}/uploads/${projectId}/${upload.split("/").pop()}`);
    assert.ok(offset >= acknowledged, `offset ${offset} lost acknowledged bytes (${acknowledged})`);
    assert.ok(offset <= file.length, `offset ${offset} beyond the ${file.length} bytes on disk`);
    assert.equal(sha256Hex(file.subarray(0, offset)), sha256Hex(bytes.subarray(0, offset)));
  };
  try {
    await crashRounds(dataDir, 3, (round) => [(async () => {
      const { fetch, close } = await childFetch(round.server, dataDir);
      try {
        if (projectId === "") {
          projectId = (await createProject(fetch)).id;
          upload = await createUpload(fetch, projectId, bytes.length);
        }
        let offset = await headOffset(fetch, upload);
        await checkDurable(offset);
        while (!round.killed() && offset < bytes.length) {
          const response = await patch(fetch, upload, offset, bytes.slice(offset, offset + CHUNK));
          assert.equal(response.status, 204);
          offset = Number(response.headers.get("upload-offset"));
          acknowledged = offset;
          round.acknowledged();
        }
      } catch (error) {
        if (!round.killed()) throw error;
      } finally {
        close();
      }
    })()]);

    const server = await spawnServer(dataDir);
    const { fetch, close } = await childFetch(server, dataDir);
    try {
      const offset = await headOffset(fetch, upload);
      await checkDurable(offset);
      assert.equal((await patch(fetch, upload, offset, bytes.slice(offset))).status, 204);
      const [entry] = await (await fetch(`/api/projects/${projectId}/uploads`, { headers: basicAuth() })).json();
      assert.equal(entry.sha256, sha256Hex(bytes));
      console.log(`resumed at ${offset} of ${bytes.length} after 3 kill -9 rounds`);
    } finally {
      close();
      server.process.kill("SIGTERM");
      await server.exited;
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
