/**
 * SQLite drop-off store. Writes are single statements on the writer
 * connection (each its own durable commit, `synchronous = FULL`): uploads
 * advance once per PATCH, far too rarely for group commit to matter.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { Project } from "../../domain/dropoff.ts";
import { type DropoffRow, projectColumns, projectFromRow, uploadColumns, uploadFromRow } from "../dropoff_rows.ts";
import type { DropoffStore, TusUpload, UploadUnlock } from "../types.ts";
import { immediateTransaction } from "./migrations.ts";

/** {@link DropoffStore} on SQLite: writes on `writer`, reads on `reader`. */
export class SqliteDropoffStore implements DropoffStore {
  readonly #writer: DatabaseSync;
  readonly #write: Record<"project" | "upload" | "progress" | "finish" | "delete", StatementSync>;
  readonly #read: Record<"project" | "projects" | "bytes" | "upload" | "uploads" | "expired", StatementSync>;

  constructor(writer: DatabaseSync, reader: DatabaseSync) {
    this.#writer = writer;
    this.#write = {
      project: writer.prepare(`
        INSERT INTO dropoff_projects (id, owner, name, code_hash, max_size_bytes, quota_bytes, allowed_types,
          expires_at, created_at, public_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      upload: writer.prepare(`
        INSERT INTO tus_uploads (id, project_id, upload_length, upload_offset, metadata, created_at, expires_at,
          finished_at, sha256, upload_concat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      progress: writer.prepare(
        "UPDATE tus_uploads SET upload_offset = ?, upload_length = ?, expires_at = ? WHERE id = ?",
      ),
      finish: writer.prepare(
        "UPDATE tus_uploads SET upload_offset = ?, upload_length = ?, sha256 = ?, finished_at = ? WHERE id = ?",
      ),
      delete: writer.prepare("DELETE FROM tus_uploads WHERE id = ?"),
    };
    this.#read = {
      project: reader.prepare("SELECT * FROM dropoff_projects WHERE id = ?"),
      projects: reader.prepare("SELECT * FROM dropoff_projects WHERE owner = ? ORDER BY created_at DESC, id"),
      bytes: reader.prepare(
        "SELECT coalesce(sum(coalesce(upload_length, upload_offset)), 0) AS bytes FROM tus_uploads WHERE project_id = ?",
      ),
      upload: reader.prepare("SELECT * FROM tus_uploads WHERE id = ?"),
      uploads: reader.prepare("SELECT * FROM tus_uploads WHERE project_id = ? ORDER BY created_at, id"),
      expired: reader.prepare(
        "SELECT * FROM tus_uploads WHERE (finished_at IS NULL OR upload_concat = 'partial') AND expires_at < ?",
      ),
    };
  }

  createProject(project: Project): Promise<void> {
    return Promise.try(() => void this.#write.project.run(...values(projectColumns(project))));
  }

  project(id: string): Promise<Project | null> {
    return Promise.try(() => {
      const row = this.#read.project.get(id) as DropoffRow | undefined;
      return row === undefined ? null : projectFromRow(row);
    });
  }

  projects(owner: string): Promise<Project[]> {
    return Promise.try(() => (this.#read.projects.all(owner) as DropoffRow[]).map(projectFromRow));
  }

  projectBytes(projectId: string): Promise<number> {
    return Promise.try(() => (this.#read.bytes.get(projectId) as { bytes: number }).bytes);
  }

  createUpload(upload: TusUpload): Promise<void> {
    return Promise.try(() => void this.#write.upload.run(...values(uploadColumns(upload))));
  }

  upload(id: string): Promise<TusUpload | null> {
    return Promise.try(() => {
      const row = this.#read.upload.get(id) as DropoffRow | undefined;
      return row === undefined ? null : uploadFromRow(row);
    });
  }

  uploads(projectId: string): Promise<TusUpload[]> {
    return Promise.try(() => (this.#read.uploads.all(projectId) as DropoffRow[]).map(uploadFromRow));
  }

  saveProgress(id: string, progress: { offset: number; length: number | null; expiresAt: Date }): Promise<void> {
    return Promise.try(() =>
      void this.#write.progress.run(progress.offset, progress.length, progress.expiresAt.getTime(), id)
    );
  }

  finish(id: string, progress: { offset: number; length: number }, sha256: string, finishedAt: Date): Promise<void> {
    return Promise.try(() =>
      void this.#write.finish.run(progress.offset, progress.length, sha256, finishedAt.getTime(), id)
    );
  }

  finishConcatenation(
    id: string,
    progress: { offset: number; length: number },
    sha256: string,
    finishedAt: Date,
    partIds: string[],
  ): Promise<void> {
    return Promise.try(() =>
      immediateTransaction(this.#writer, () => {
        this.#write.finish.run(progress.offset, progress.length, sha256, finishedAt.getTime(), id);
        for (const partId of partIds) this.#write.delete.run(partId);
      })
    );
  }

  deleteUpload(id: string): Promise<void> {
    return Promise.try(() => void this.#write.delete.run(id));
  }

  expiredUploads(now: Date): Promise<TusUpload[]> {
    return Promise.try(() => (this.#read.expired.all(now.getTime()) as DropoffRow[]).map(uploadFromRow));
  }

  tryLockUpload(): Promise<UploadUnlock | null> {
    return Promise.resolve(() => Promise.resolve());
  }

  lockProject(): Promise<UploadUnlock> {
    return Promise.resolve(() => Promise.resolve());
  }
}

/** Column values in insert order, Dates as epoch milliseconds. */
function values(columns: Record<string, unknown>): SQLInputValue[] {
  return Object.values(columns).map((value) => value instanceof Date ? value.getTime() : value as SQLInputValue);
}
