/**
 * Disk full during a tus PATCH: the client gets an error, nothing beyond the
 * bytes on disk is ever reported, other requests are served, and the upload
 * completes intact once space returns. Uses a small tmpfs (needs root, as CI has).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createProject, createUpload, headOffset, patch, sha256Hex, testBytes } from "../helpers/dropoff.ts";
import { run } from "../helpers/command.ts";
import { basicAuth, startTestServer, writeUsersFile } from "../helpers/server.ts";

Deno.test("tus: disk full mid-PATCH records nothing beyond the disk, and the upload resumes when space returns", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-diskfull-" });
  const uploads = join(dataDir, "uploads");
  await Deno.mkdir(uploads);
  await writeUsersFile(dataDir);
  await run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", uploads);
  try {
    await using server = await startTestServer({ dataDir });
    const bytes = testBytes(3 * 1024 * 1024);
    const project = await createProject(server.fetch);
    const upload = await createUpload(server.fetch, project.id, bytes.length);

    const full = await patch(server.fetch, upload, 0, bytes);
    assert.equal(full.status, 500, "the disk-full PATCH is not acknowledged");
    const offset = await headOffset(server.fetch, upload);
    const file = join(uploads, project.id, upload.split("/").at(-1)!);
    assert.ok(offset <= (await Deno.stat(file)).size, `reported offset ${offset} is on disk`);
    assert.equal((await server.fetch("/ping")).status, 200, "others are still served");

    await run("mount", "-o", "remount,size=8m", uploads);
    const resumed = await patch(server.fetch, upload, offset, bytes.slice(offset));
    assert.equal(resumed.status, 204);
    const [listed] = await (await server.fetch(`/api/projects/${project.id}/uploads`, { headers: basicAuth() })).json();
    assert.equal(listed.sha256, sha256Hex(bytes), "the finished file is intact");
  } finally {
    await run("umount", uploads);
    await Deno.remove(dataDir, { recursive: true });
  }
});
