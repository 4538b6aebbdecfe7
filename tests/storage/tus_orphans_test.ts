import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config.ts";
import { newUploadId } from "../../domain/tus.ts";
import { openRecordStore } from "../../storage/open.ts";
import type { RecordStore } from "../../storage/types.ts";
import { ORPHAN_GRACE_MS, removeExpiredUploads, removeOrphanFiles } from "../../storage/tus_cleanup.ts";
import { TusFileStore } from "../../storage/tus_files.ts";
import { UploadLocks } from "../../storage/upload_locks.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** An SQLite store, the upload files and locks over a fresh data directory, and one project in it. */
interface Setup {
  store: RecordStore;
  files: TusFileStore;
  locks: UploadLocks;
  projectId: string;
  /** Records an upload of 10 bytes created at `createdAt`, expiring at `expiresAt`. */
  record(id: string, times: { createdAt: Date; expiresAt: Date; finishedAt: Date | null }): Promise<void>;
}

async function withProject(test: (setup: Setup) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-orphans-" });
  const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: "" } }));
  try {
    const projectId = crypto.randomUUID();
    await store.dropoff.createProject({
      id: projectId,
      owner: "owner",
      name: "orphans",
      codeHash: null,
      maxSizeBytes: null,
      quotaBytes: null,
      allowedTypes: [],
      expiresAt: null,
      createdAt: new Date(),
      publicKey: null,
    });
    const record: Setup["record"] = (id, { createdAt, expiresAt, finishedAt }) =>
      store.dropoff.createUpload({
        id,
        projectId,
        length: 10,
        offset: finishedAt ? 10 : 0,
        metadata: { project: projectId },
        createdAt,
        expiresAt,
        finishedAt,
        sha256: null,
        concat: null,
      });
    const files = new TusFileStore(join(dataDir, "uploads"));
    await test({ store, files, locks: new UploadLocks(store.dropoff), projectId, record });
  } finally {
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("tus cleanup: old upload files without a record are removed; recorded and young ones stay", async () => {
  await withProject(async ({ store, files, locks, projectId, record }) => {
    const now = new Date();
    const recorded = newUploadId();
    await files.create(projectId, recorded);
    await record(recorded, { createdAt: now, expiresAt: new Date(now.getTime() + 3_600_000), finishedAt: null });
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
  });
});

Deno.test("tus cleanup: an upload root that does not exist yet has no orphans", async () => {
  await withProject(async ({ store, files, locks }) => {
    assert.equal(await removeOrphanFiles(store.dropoff, files, locks), 0);
  });
});

Deno.test("tus cleanup: an abandoned upload's encrypted copies go with it, a finished upload's stay", async () => {
  await withProject(async ({ store, files, locks, projectId, record }) => {
    const now = new Date();
    const longAgo = new Date(now.getTime() - ORPHAN_GRACE_MS - 60_000);
    const names = (id: string) => ["", ".gpg", ".gpg.partial"].map((suffix) => files.path(projectId, id) + suffix);
    const write = async (path: string) => {
      await Deno.writeTextFile(path, "bytes");
      await Deno.utime(path, longAgo, longAgo);
    };

    // A crash after the encrypted copy was renamed into place, before its plaintext was removed;
    // then the upload expired (as one sealed by an earlier version, which sealed before recording "finished").
    const abandoned = newUploadId();
    await files.create(projectId, abandoned);
    for (const path of names(abandoned)) await write(path);
    await record(abandoned, { createdAt: longAgo, expiresAt: longAgo, finishedAt: null });
    // Sealed, recorded finished, plaintext removed: only `<id>.gpg` is left, and it is the upload.
    const finished = newUploadId();
    await write(`${files.path(projectId, finished)}.gpg`);
    await record(finished, { createdAt: longAgo, expiresAt: longAgo, finishedAt: longAgo });
    // Encryption interrupted by a crash, and the record gone (the upload was removed meanwhile).
    const unrecorded = newUploadId();
    await write(`${files.path(projectId, unrecorded)}.gpg.partial`);

    assert.equal(await removeExpiredUploads(store.dropoff, files, locks, now), 1);
    for (const path of names(abandoned)) assert.equal(await exists(path), false, path);
    assert.equal(await removeOrphanFiles(store.dropoff, files, locks, now), 1);
    assert.equal(await exists(`${files.path(projectId, unrecorded)}.gpg.partial`), false);
    assert.equal(await exists(`${files.path(projectId, finished)}.gpg`), true);
  });
});
