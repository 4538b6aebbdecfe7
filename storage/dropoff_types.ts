/**
 * What the record store keeps for the secure data drop-off: projects and
 * their tus uploads (the bytes live in files, see storage/tus_files.ts).
 */
import type { Project } from "../domain/dropoff.ts";
import type { TusConcat, TusMetadata } from "../domain/tus.ts";

/** One tus upload as stored; the bytes live in the upload file, named by `id`. */
export interface TusUpload {
  id: string;
  projectId: string;
  /** Declared length; null while deferred (creation-defer-length). */
  length: number | null;
  /** Bytes durable on disk and acknowledged; only ever advanced after the file is fsync'd. */
  offset: number;
  /** Client metadata without the upload code, plus the bound `project`. */
  metadata: TusMetadata;
  createdAt: Date;
  /** Unfinished uploads after this moment answer 410 and are removed by the cleanup. */
  expiresAt: Date;
  /** Set once offset reached length and the file's checksum was recorded. */
  finishedAt: Date | null;
  /** SHA-256 (hex) of the whole file, recorded when finished. */
  sha256: string | null;
  /** Concatenation role (`Upload-Concat`); null for an ordinary upload. */
  concat: TusConcat | null;
}

/** Releases a cross-instance upload lock. */
export type UploadUnlock = () => Promise<void>;

/** Projects and their tus uploads. */
export interface DropoffStore {
  /** Stores a new project (its id already chosen). */
  createProject(project: Project): Promise<void>;
  /** The project, or null. */
  project(id: string): Promise<Project | null>;
  /** The owner's projects, newest first. */
  projects(owner: string): Promise<Project[]>;
  /** Bytes the project's uploads take: declared lengths, or offsets while deferred. */
  projectBytes(projectId: string): Promise<number>;
  /** Records a new upload. */
  createUpload(upload: TusUpload): Promise<void>;
  /** The upload, or null. */
  upload(id: string): Promise<TusUpload | null>;
  /** The project's uploads, oldest first. */
  uploads(projectId: string): Promise<TusUpload[]>;
  /** Records progress once the bytes up to `offset` are durable; also sets a deferred length and the expiry. */
  saveProgress(id: string, progress: { offset: number; length: number | null; expiresAt: Date }): Promise<void>;
  /**
   * Records the last bytes and marks the upload finished with the whole file's
   * SHA-256, in one statement: an upload is never seen complete but unfinished.
   */
  finish(id: string, progress: { offset: number; length: number }, sha256: string, finishedAt: Date): Promise<void>;
  /**
   * Marks a concatenated final upload finished (as {@link finish}) and forgets
   * its partial uploads in the same transaction, so their bytes count towards
   * the quota once: as partials before, as the final after.
   */
  finishConcatenation(
    id: string,
    progress: { offset: number; length: number },
    sha256: string,
    finishedAt: Date,
    partIds: string[],
  ): Promise<void>;
  /** Forgets the upload (its file is removed by the caller). */
  deleteUpload(id: string): Promise<void>;
  /** Unfinished uploads, and partial uploads never concatenated, whose expiry has passed. */
  expiredUploads(now: Date): Promise<TusUpload[]>;
  /**
   * Takes the upload's lock across every instance sharing the database, or
   * resolves null when another holds it. SQLite has one host and relies on the
   * in-process lock alone, so its lock always succeeds.
   */
  tryLockUpload(id: string): Promise<UploadUnlock | null>;
  /**
   * Waits for the project's creation lock across every instance sharing the
   * database, so a quota check and the record it allows are never interleaved
   * with another instance's. SQLite has one host: the caller's in-process
   * queue is enough and this resolves at once.
   */
  lockProject(projectId: string): Promise<UploadUnlock>;
}
