/**
 * Data drop-off projects (seed 001): who may start an upload into a project,
 * and the names derived from client input. Pure: the caller supplies the
 * project, the space already used and the time.
 */
import { createHash } from "node:crypto";
import { sameSecret } from "../auth/same_secret.ts";
import { err, ok, type Result } from "./result.ts";
import type { TusMetadata } from "./tus.ts";

/** A project as stored: uploads go to `/files/<id>/`. */
export interface Project {
  /** UUID v4, the secret part of the upload URL. */
  id: string;
  /** The htpasswd user who created it and alone sees and downloads its uploads. */
  owner: string;
  name: string;
  /** SHA-256 (hex) of the upload code; null = no code asked. The code itself is never stored. */
  codeHash: string | null;
  /** Largest single upload in bytes; null = only the server-wide limit. */
  maxSizeBytes: number | null;
  /** Total bytes all uploads of the project may take; null = unlimited. */
  quotaBytes: number | null;
  /** Lowercase file extensions without the dot; empty = any type. */
  allowedTypes: string[];
  /** After this moment no upload can start; null = never. */
  expiresAt: Date | null;
  createdAt: Date;
  /** Armored OpenPGP public key: uploads are kept only encrypted to it. null = kept as sent. */
  publicKey: string | null;
}

/** Why a new upload is refused, with the HTTP status the tus client gets. */
export interface Refusal {
  status: 400 | 403 | 404 | 410 | 413;
  message: string;
}

/** What a pre-create check looks at. */
export interface PreCreateFacts {
  project: Project | null;
  /** Upload code sent by the client (header or metadata), if any. */
  code: string | undefined;
  /** Declared length; null when deferred. */
  length: number | null;
  metadata: TusMetadata;
  /** Bytes the project's existing uploads take (declared lengths). */
  usedBytes: number;
  now: Date;
}

/** The original's pre-create hook as a pure decision: project valid, code right, size and type allowed. */
export function checkPreCreate(facts: PreCreateFacts): Result<void, Refusal> {
  const { project } = facts;
  if (project === null) return err({ status: 404, message: "no such project: check the upload link" });
  if (project.expiresAt !== null && project.expiresAt <= facts.now) {
    return err({ status: 410, message: "this project no longer accepts uploads (expired)" });
  }
  if (project.codeHash !== null && (facts.code === undefined || !codeMatches(facts.code, project.codeHash))) {
    return err({ status: 403, message: "wrong or missing upload code" });
  }
  if (facts.length === null && (project.maxSizeBytes !== null || project.quotaBytes !== null)) {
    // A deferred length could not be held to the limits before the bytes arrive.
    return err({ status: 400, message: "this project limits sizes: send Upload-Length, not Upload-Defer-Length" });
  }
  if (facts.length !== null && project.maxSizeBytes !== null && facts.length > project.maxSizeBytes) {
    return err({ status: 413, message: `file larger than this project allows (${project.maxSizeBytes} bytes)` });
  }
  if (project.quotaBytes !== null && facts.usedBytes + (facts.length ?? 0) > project.quotaBytes) {
    return err({ status: 413, message: `project quota of ${project.quotaBytes} bytes would be exceeded` });
  }
  if (project.allowedTypes.length > 0) {
    const extension = fileExtension(facts.metadata.filename ?? "");
    if (extension === null || !project.allowedTypes.includes(extension)) {
      return err({ status: 403, message: `file type not allowed here; allowed: ${project.allowedTypes.join(", ")}` });
    }
  }
  return ok(undefined);
}

/** SHA-256 hex of an upload code, the form stored. */
export function hashUploadCode(code: string): string {
  return createHash("sha256").update(code, "utf8").digest("hex");
}

function codeMatches(code: string, expectedHash: string): boolean {
  return sameSecret(hashUploadCode(code), expectedHash);
}

/** Lowercase extension of a client file name (`report.CSV.gz` → `gz`); null when there is none. */
export function fileExtension(filename: string): string | null {
  const base = filename.split(/[\\/]/).at(-1) ?? "";
  const dot = base.lastIndexOf(".");
  if (dot <= 0 || dot === base.length - 1) return null;
  return base.slice(dot + 1).toLowerCase();
}

/**
 * A client file name made safe for a `Content-Disposition` header: the last
 * path segment, only letters, digits, `.`, `-`, `_`, no leading dots, at most
 * 120 characters. It is never used as a path: files on disk are named by upload id.
 */
export function safeFileName(filename: string | undefined, fallback: string): string {
  const base = (filename ?? "").split(/[\\/]/).at(-1) ?? "";
  const cleaned = base.normalize("NFKC").replace(/[^\w.-]+/g, "_").replace(/^[._]+/, "").slice(0, 120);
  return cleaned === "" ? fallback : cleaned;
}

/** Lowercase extensions from `csv, .TXT,pdf` style input; invalid entries are an error. */
export function parseAllowedTypes(list: string[]): Result<string[]> {
  const types = list.map((entry) => entry.trim().replace(/^\./, "").toLowerCase()).filter(Boolean);
  const bad = types.find((type) => !/^[a-z0-9]{1,16}$/.test(type));
  return bad === undefined ? ok([...new Set(types)]) : err(`not a file extension: ${JSON.stringify(bad)}`);
}

/** True for a UUID v4 in lowercase canonical form (how project ids are made and matched). */
export function isProjectId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(value);
}
