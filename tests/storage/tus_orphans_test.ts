import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config.ts";
import { newUploadId } from "../../domain/tus.ts";
import { openRecordStore } from "../../storage/open.ts";
import { ORPHAN_GRACE_MS, removeOrphanFiles } from "../../storage/tus_cleanup.ts";
import { TusFileStore } from "../../storage/tus_files.ts";
import { UploadLocks } from "../../storage/upload_locks.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("tus cleanup: old upload files without a record are removed; recorded and young ones stay", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-orphans-" });
  const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: "" } }));
  try {
    const files = new TusFileStore(join(dataDir, "uploads"));
    const locks = new UploadLocks(store.dropoff);
    const projectId = crypto.randomUUID();
    const now = new Date();
    await store.dropoff.createProject({
      id: projectId,
      owner: "owner",
      name: "orphans",
      codeHash: null,
      maxSizeBytes: null,
      quotaBytes: null,
      allowedTypes: [],
      expiresAt: null,
      createdAt: now,
      publicKey: null,
    });
    const recorded = newUploadId();
    await files.create(projectId, recorded);
    await store.dropoff.createUpload({
      id: recorded,
      projectId,
      length: 10,
      offset: 0,
      metadata: { project: projectId },
      createdAt: now,
      expiresAt: new Date(now.getTime() + 3_600_000),
      finishedAt: null,
      sha256: null,
      concat: null,
    });
    // A crash between creating the file and recording the upload leaves files like these.
    const oldOrphan = newUploadId();
    const youngOrphan = newUploadId();
    await files.create(projectId, oldOrphan);
    await files.create(projectId, youngOrphan);
    const longAgo = new Date(now.getTime() - ORPHAN_GRACE_MS - 60_000);
    await Deno.utime(files.path(projectId, oldOrphan), longAgo, longAgo);
    await Deno.utime(files.path(projectId, recorded), longAgo, longAgo);
    await Deno.writeTextFile(join(files.root, projectId, "not-an-upload-id"), "left alone");

    assert.equal(await removeOrphanFiles(store.dropoff, files, locks, now), 1);
    assert.equal(await exists(files.path(projectId, oldOrphan)), false);
    assert.equal(await exists(files.path(projectId, youngOrphan)), true, "may still be mid-creation");
    assert.equal(await exists(files.path(projectId, recorded)), true);
    assert.equal(await exists(join(files.root, projectId, "not-an-upload-id")), true);
    assert.equal(await removeOrphanFiles(store.dropoff, files, locks, now), 0);
  } finally {
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("tus cleanup: an upload root that does not exist yet has no orphans", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-orphans-" });
  const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: "" } }));
  try {
    const files = new TusFileStore(join(dataDir, "uploads"));
    assert.equal(await removeOrphanFiles(store.dropoff, files, new UploadLocks(store.dropoff)), 0);
  } finally {
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
