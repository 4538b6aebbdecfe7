import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config.ts";
import { newUploadId } from "../../domain/tus.ts";
import { openRecordStore } from "../../storage/open.ts";
import { ORPHAN_GRACE_MS, removeExpiredUploads, removeOrphanFiles } from "../../storage/tus_cleanup.ts";
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

Deno.test("tus cleanup: an abandoned upload's encrypted copies go with it, a finished upload's stay", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-orphans-" });
  const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: "" } }));
  try {
    const files = new TusFileStore(join(dataDir, "uploads"));
    const locks = new UploadLocks(store.dropoff);
    const projectId = crypto.randomUUID();
    const now = new Date();
    const longAgo = new Date(now.getTime() - ORPHAN_GRACE_MS - 60_000);
    await store.dropoff.createProject({
      id: projectId,
      owner: "owner",
      name: "sealed",
      codeHash: null,
      maxSizeBytes: null,
      quotaBytes: null,
      allowedTypes: [],
      expiresAt: null,
      createdAt: now,
      publicKey: null,
    });
    const record = (id: string, finishedAt: Date | null) =>
      store.dropoff.createUpload({
        id,
        projectId,
        length: 10,
        offset: finishedAt ? 10 : 0,
        metadata: { project: projectId },
        createdAt: longAgo,
        expiresAt: longAgo,
        finishedAt,
        sha256: null,
        concat: null,
      });
    const names = (id: string) => ["", ".gpg", ".gpg.partial"].map((suffix) => files.path(projectId, id) + suffix);
    const write = async (path: string) => {
      await Deno.writeTextFile(path, "bytes");
      await Deno.utime(path, longAgo, longAgo);
    };

    // A crash after the encrypted copy was renamed into place, before "finished" was recorded;
    // the client never came back, so the upload expired.
    const abandoned = newUploadId();
    await files.create(projectId, abandoned);
    for (const path of names(abandoned)) await write(path);
    await record(abandoned, null);
    // Sealed, recorded finished, plaintext removed: only `<id>.gpg` is left, and it is the upload.
    const finished = newUploadId();
    await write(`${files.path(projectId, finished)}.gpg`);
    await record(finished, longAgo);
    // Encryption interrupted by a crash, and the record gone (the upload was removed meanwhile).
    const unrecorded = newUploadId();
    await write(`${files.path(projectId, unrecorded)}.gpg.partial`);

    assert.equal(await removeExpiredUploads(store.dropoff, files, locks, now), 1);
    for (const path of names(abandoned)) assert.equal(await exists(path), false, path);
    assert.equal(await removeOrphanFiles(store.dropoff, files, locks, now), 1);
    assert.equal(await exists(`${files.path(projectId, unrecorded)}.gpg.partial`), false);
    assert.equal(await exists(`${files.path(projectId, finished)}.gpg`), true);
  } finally {
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
