/**
 * PostgreSQL drop-off store. Instances sharing the database serialise PATCHes
 * to one upload with an advisory lock in a transaction kept open on the lock
 * pool for the whole PATCH, released by the server itself if the instance
 * dies or the connection drops.
 */
import type postgres from "postgres";
import type { Project } from "../../domain/dropoff.ts";
import { projectColumns, projectFromRow, uploadColumns, uploadFromRow } from "../dropoff_rows.ts";
import type { DropoffStore, TusUpload, UploadUnlock } from "../types.ts";
import { connectionLost, transaction } from "./transaction.ts";

/** First half of the two-key advisory lock on uploads; differs from the migration and confo keys. */
const UPLOAD_LOCK_CLASS = 0x74757300; // "tus\0"
const PROJECT_LOCK_CLASS = 0x70726a00; // "prj\0"

/** {@link DropoffStore} on PostgreSQL. */
export class PostgresDropoffStore implements DropoffStore {
  readonly #sql: postgres.Sql;
  readonly #lockSql: postgres.Sql;

  /** @param lockSql a pool of its own for the session locks, each held for a whole PATCH. */
  constructor(sql: postgres.Sql, lockSql: postgres.Sql) {
    this.#sql = sql;
    this.#lockSql = lockSql;
  }

  async createProject(project: Project): Promise<void> {
    await this.#sql`insert into dropoff_projects ${this.#sql(projectColumns(project))}`;
  }

  async project(id: string): Promise<Project | null> {
    const [row] = await this.#sql`select * from dropoff_projects where id = ${id}`;
    return row === undefined ? null : projectFromRow(row);
  }

  async projects(owner: string): Promise<Project[]> {
    const rows = await this.#sql`select * from dropoff_projects where owner = ${owner} order by created_at desc, id`;
    return rows.map(projectFromRow);
  }

  async projectBytes(projectId: string): Promise<number> {
    const [row] = await this.#sql`
      select coalesce(sum(coalesce(upload_length, upload_offset)), 0) as bytes from tus_uploads
      where project_id = ${projectId}`;
    return Number(row.bytes);
  }

  async createUpload(upload: TusUpload): Promise<void> {
    await this.#sql`insert into tus_uploads ${this.#sql(uploadColumns(upload))}`;
  }

  async upload(id: string): Promise<TusUpload | null> {
    const [row] = await this.#sql`select * from tus_uploads where id = ${id}`;
    return row === undefined ? null : uploadFromRow(row);
  }

  async uploads(projectId: string): Promise<TusUpload[]> {
    const rows = await this.#sql`select * from tus_uploads where project_id = ${projectId} order by created_at, id`;
    return rows.map(uploadFromRow);
  }

  async saveProgress(id: string, progress: { offset: number; length: number | null; expiresAt: Date }): Promise<void> {
    await this.#sql`
      update tus_uploads set upload_offset = ${progress.offset}, upload_length = ${progress.length},
        expires_at = ${progress.expiresAt}
      where id = ${id}`;
  }

  async finish(
    id: string,
    progress: { offset: number; length: number },
    sha256: string,
    finishedAt: Date,
  ): Promise<void> {
    await this.#sql`
      update tus_uploads set upload_offset = ${progress.offset}, upload_length = ${progress.length},
        sha256 = ${sha256}, finished_at = ${finishedAt}
      where id = ${id}`;
  }

  async finishConcatenation(
    id: string,
    progress: { offset: number; length: number },
    sha256: string,
    finishedAt: Date,
    partIds: string[],
  ): Promise<void> {
    await transaction(this.#sql, async (tx) => {
      await tx`
        update tus_uploads set upload_offset = ${progress.offset}, upload_length = ${progress.length},
          sha256 = ${sha256}, finished_at = ${finishedAt}
        where id = ${id}`;
      await tx`delete from tus_uploads where id in ${tx(partIds)}`;
    });
  }

  async deleteUpload(id: string): Promise<void> {
    await this.#sql`delete from tus_uploads where id = ${id}`;
  }

  async expiredUploads(now: Date): Promise<TusUpload[]> {
    const rows = await this.#sql`
      select * from tus_uploads where (finished_at is null or upload_concat = 'partial') and expires_at < ${now}`;
    return rows.map(uploadFromRow);
  }

  tryLockUpload(id: string): Promise<UploadUnlock | null> {
    return this.#advisoryLock(UPLOAD_LOCK_CLASS, lockKey(id), "try");
  }

  async lockProject(projectId: string): Promise<UploadUnlock> {
    // Waiting never yields null; the uuid's first 32 bits make collisions as rare as for uploads.
    return (await this.#advisoryLock(PROJECT_LOCK_CLASS, lockKey(projectId.replaceAll("-", "")), "wait"))!;
  }

  async #advisoryLock(lockClass: number, key: number, mode: "try" | "wait"): Promise<UploadUnlock | null> {
    const acquired = Promise.withResolvers<boolean>();
    const finished = Promise.withResolvers<void>();
    // A transaction-level lock, held while its transaction stays open for the caller's work; the
    // transaction helper never sends COMMIT on a connection that closed meanwhile (see transaction.ts).
    const held = transaction(this.#lockSql, async (tx) => {
      const [{ locked }] = mode === "try"
        ? await tx`select pg_try_advisory_xact_lock(${lockClass}::int, ${key}::int) as locked`
        : await tx`select true as locked from (select pg_advisory_xact_lock(${lockClass}::int, ${key}::int)) as waited`;
      acquired.resolve(locked);
      if (locked) await finished.promise;
    });
    held.catch(acquired.reject);
    if (!await acquired.promise) {
      await held;
      return null;
    }
    return async () => {
      finished.resolve();
      await held.catch((error) => {
        // A lost connection took the lock with it: nothing is left to release.
        if (!connectionLost(error)) throw error;
      });
    };
  }
}

/** The upload id's first 32 bits as a signed int4: ids are random, so collisions only cost a spurious 409. */
function lockKey(id: string): number {
  return Number.parseInt(id.slice(0, 8), 16) | 0;
}
