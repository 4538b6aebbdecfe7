/**
 * Row ↔ object mapping shared by the SQLite and PostgreSQL drop-off stores.
 * Both use the same column names; times arrive as epoch milliseconds (SQLite)
 * or Date (PostgreSQL), integers as number or string (PostgreSQL bigint).
 */
import type { Project } from "../domain/dropoff.ts";
import type { TusConcat } from "../domain/tus.ts";
import type { TusUpload } from "./types.ts";

/** A row as either driver returns it. */
export type DropoffRow = Record<string, unknown>;

/** Columns of `dropoff_projects` for an insert, times as Date. */
export function projectColumns(project: Project) {
  return {
    id: project.id,
    owner: project.owner,
    name: project.name,
    code_hash: project.codeHash,
    max_size_bytes: project.maxSizeBytes,
    quota_bytes: project.quotaBytes,
    allowed_types: project.allowedTypes.join(","),
    expires_at: project.expiresAt,
    created_at: project.createdAt,
    public_key: project.publicKey,
  };
}

/** Columns of `tus_uploads` for an insert, times as Date. */
export function uploadColumns(upload: TusUpload) {
  return {
    id: upload.id,
    project_id: upload.projectId,
    upload_length: upload.length,
    upload_offset: upload.offset,
    metadata: JSON.stringify(upload.metadata),
    created_at: upload.createdAt,
    expires_at: upload.expiresAt,
    finished_at: upload.finishedAt,
    sha256: upload.sha256,
    upload_concat: upload.concat === null ? null : formatConcatColumn(upload.concat),
  };
}

/** A `dropoff_projects` row as a {@link Project}. */
export function projectFromRow(row: DropoffRow): Project {
  return {
    id: row.id as string,
    owner: row.owner as string,
    name: row.name as string,
    codeHash: row.code_hash as string | null,
    maxSizeBytes: nullableNumber(row.max_size_bytes),
    quotaBytes: nullableNumber(row.quota_bytes),
    allowedTypes: (row.allowed_types as string).split(",").filter(Boolean),
    expiresAt: nullableDate(row.expires_at),
    createdAt: nullableDate(row.created_at)!,
    publicKey: row.public_key as string | null,
  };
}

/** A `tus_uploads` row as a {@link TusUpload}. */
export function uploadFromRow(row: DropoffRow): TusUpload {
  return {
    id: row.id as string,
    projectId: row.project_id as string,
    length: nullableNumber(row.upload_length),
    offset: Number(row.upload_offset),
    metadata: JSON.parse(row.metadata as string),
    createdAt: nullableDate(row.created_at)!,
    expiresAt: nullableDate(row.expires_at)!,
    finishedAt: nullableDate(row.finished_at),
    sha256: row.sha256 as string | null,
    concat: parseConcatColumn((row.upload_concat ?? null) as string | null),
  };
}

/** `upload_concat` holds `partial` or `final;<id> <id> …` (ids, not URLs: the project is in its own column). */
function formatConcatColumn(concat: TusConcat): string {
  return concat.kind === "partial" ? "partial" : `final;${concat.partIds.join(" ")}`;
}

function parseConcatColumn(value: string | null): TusConcat | null {
  if (value === null) return null;
  if (value === "partial") return { kind: "partial" };
  return { kind: "final", partIds: value.slice("final;".length).split(" ") };
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function nullableDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(Number(value));
}
