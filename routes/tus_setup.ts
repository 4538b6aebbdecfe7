/**
 * The tus parts a server shares between its routes, its start-up recovery
 * and its shutdown: upload files, per-upload locks, encryption at rest with
 * its background sealer, and the hooks (with the owner email) that announce
 * finished uploads.
 */
import type { Config } from "../config.ts";
import type { Mailer } from "../mail/mailer.ts";
import { withOwnerNotice } from "../mail/upload_notice.ts";
import { TusAtRest } from "../storage/tus_at_rest.ts";
import { TusFileStore } from "../storage/tus_files.ts";
import { BackgroundSealer } from "../storage/tus_sealing.ts";
import type { RecordStore, TusUpload } from "../storage/types.ts";
import { UploadLocks } from "../storage/upload_locks.ts";
import { type HookRequest, type TusHooks, tusHooks } from "./tus_hooks.ts";

/** Upload files, locks, encryption at rest and hooks, built once per server. */
export interface TusUploads {
  files: TusFileStore;
  /** Shared with the cleanup and the sealer, so neither touches an upload mid-PATCH. */
  locks: UploadLocks;
  atRest: TusAtRest;
  sealer: BackgroundSealer;
  hooks: TusHooks;
}

/** Builds the tus parts for uploads stored under `root`. */
export function tusUploads(records: RecordStore, root: string, hooks: TusHooks): TusUploads {
  const files = new TusFileStore(root);
  const locks = new UploadLocks(records.dropoff);
  const atRest = new TusAtRest(records.dropoff, files);
  return { files, locks, atRest, sealer: new BackgroundSealer(atRest, locks), hooks };
}

/** The configured hooks for an existing back end, plus the email to the project's owner. */
export function uploadHooks(
  config: Config,
  records: RecordStore,
  mailer: Mailer,
  publicUrl: () => string,
): TusHooks {
  return withOwnerNotice(tusHooks(config.tus.hookUrl, config.tus.hookToken), {
    projects: records.dropoff,
    accounts: records.accounts,
    mailer,
    publicUrl,
  });
}

/**
 * What the post-finish hook reports as the finishing request of an upload
 * sealed after a restart: that request is gone; its method and path are known.
 */
export function restartRequest(upload: TusUpload): HookRequest {
  return { method: "PATCH", uri: `/files/${upload.projectId}/${upload.id}`, remoteAddr: "", headers: new Headers() };
}
