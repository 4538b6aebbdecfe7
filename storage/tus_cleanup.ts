/**
 * Removes expired, unfinished tus uploads (abandoned ones expire too: every
 * PATCH moves the expiry on) on a schedule: record first, then file, so a
 * crash in between leaves at most an unreferenced file, never a record
 * pointing at nothing. Such unreferenced files (also left by a crash between
 * creating an upload's file and recording it) are swept once they are old.
 */
import { getLogger } from "@logtape/logtape";
import type { TusFileStore } from "./tus_files.ts";
import type { DropoffStore } from "./types.ts";
import type { UploadLocks } from "./upload_locks.ts";

const log = getLogger(["fieldgate", "tus"]);

/** Removes every expired unfinished upload once; returns how many. */
export async function removeExpiredUploads(
  store: DropoffStore,
  files: TusFileStore,
  locks: UploadLocks,
  now = new Date(),
): Promise<number> {
  let removed = 0;
  for (const upload of await store.expiredUploads(now)) {
    // A PATCH running on it (here or on another instance) moves its expiry on: skip it this round.
    removed += await locks.with(upload.id, async () => {
      // Read again under the lock: a PATCH that ran meanwhile moved the expiry on or finished the upload.
      const current = await store.upload(upload.id);
      // A finished partial upload expires too when no final upload took it (concatenation).
      const kept = current === null || (current.finishedAt !== null && current.concat?.kind !== "partial");
      if (kept || current.expiresAt.getTime() >= now.getTime()) return 0;
      await store.deleteUpload(upload.id);
      await files.remove(upload.projectId, upload.id);
      return 1;
    }, () => 0);
  }
  if (removed > 0) log.info("removed {count} expired unfinished uploads", { count: removed });
  return removed;
}

/**
 * How old a file without a record must be before it is removed: creation
 * writes the file just before the record, so a young one may be mid-creation.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** Removes upload files that no record refers to and that are older than `graceMs`; returns how many. */
export async function removeOrphanFiles(
  store: DropoffStore,
  files: TusFileStore,
  locks: UploadLocks,
  now = new Date(),
  graceMs = ORPHAN_GRACE_MS,
): Promise<number> {
  let removed = 0;
  for await (const file of files.files()) {
    if (now.getTime() - file.modifiedAt.getTime() < graceMs) continue;
    removed += await locks.with(file.uploadId, async () => {
      if (await store.upload(file.uploadId) !== null) return 0;
      await files.remove(file.projectId, file.uploadId);
      return 1;
    }, () => 0);
  }
  if (removed > 0) log.info("removed {count} upload files that no upload record refers to", { count: removed });
  return removed;
}

/**
 * Runs {@link removeExpiredUploads}, then {@link removeOrphanFiles}, every
 * `intervalSeconds`; `stop()` ends it and waits for a running round.
 */
export function scheduleUploadCleanup(
  store: DropoffStore,
  files: TusFileStore,
  locks: UploadLocks,
  intervalSeconds: number,
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    const round = async () => {
      await removeExpiredUploads(store, files, locks);
      await removeOrphanFiles(store, files, locks);
    };
    running = round().catch((error) => log.error("upload cleanup failed: {error}", { error: String(error) }));
  }, intervalSeconds * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
