/**
 * tus 1.0 (https://tus.io/protocols/resumable-upload) header parsing and
 * protocol constants, without I/O. Every parser returns a {@link Result}
 * whose error is phrased for the client and maps to a 400.
 */
import { err, ok, type Result } from "./result.ts";

/** The only protocol version served. */
export const TUS_VERSION = "1.0.0";

/** Extensions advertised in `Tus-Extension`. */
export const TUS_EXTENSIONS = [
  "creation",
  "creation-with-upload",
  "creation-defer-length",
  "termination",
  "checksum",
  "expiration",
  "concatenation",
] as const;

/** Checksum algorithms accepted in `Upload-Checksum`, as node:crypto names them. */
export const TUS_CHECKSUM_ALGORITHMS = ["sha1", "sha256", "md5"] as const;

/** A checksum algorithm accepted in `Upload-Checksum`. */
export type TusChecksumAlgorithm = typeof TUS_CHECKSUM_ALGORITHMS[number];

/** Media type every PATCH body (and a creation-with-upload body) must have. */
export const TUS_CONTENT_TYPE = "application/offset+octet-stream";

/** True when a Content-Type header names the tus body type, whatever its case and parameters. */
export function isTusContentType(header: string | undefined): boolean {
  return (header ?? "").split(";")[0].trim().toLowerCase() === TUS_CONTENT_TYPE;
}

/** Every tus header, for `Access-Control-Allow-Headers` and `-Expose-Headers`. */
export const TUS_HEADERS = [
  "Tus-Resumable",
  "Tus-Version",
  "Tus-Extension",
  "Tus-Max-Size",
  "Tus-Checksum-Algorithm",
  "Upload-Length",
  "Upload-Defer-Length",
  "Upload-Offset",
  "Upload-Metadata",
  "Upload-Expires",
  "Upload-Checksum",
  "Upload-Concat",
  "Upload-Code",
  "Location",
] as const;

/** `Upload-Metadata` decoded: key → UTF-8 value (empty string for a key without value). */
export type TusMetadata = Record<string, string>;

// Lengths and offsets are stored as JavaScript numbers: 2^53 bytes is 8 PiB, far above any limit.
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** Parses a non-negative decimal byte count (`Upload-Length`, `Upload-Offset`). */
export function parseByteCount(name: string, value: string | undefined): Result<number> {
  if (value === undefined) return err(`${name} header missing`);
  const trimmed = value.trim();
  if (!DECIMAL.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    return err(`${name} must be a non-negative integer below 2^53, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return ok(Number(trimmed));
}

/** Declared length of a new upload: a number, or null when deferred (`Upload-Defer-Length: 1`). */
export function parseCreationLength(
  uploadLength: string | undefined,
  deferLength: string | undefined,
): Result<number | null> {
  if (uploadLength !== undefined && deferLength !== undefined) {
    return err("send either Upload-Length or Upload-Defer-Length, not both");
  }
  if (deferLength !== undefined) {
    return deferLength.trim() === "1" ? ok(null) : err("Upload-Defer-Length must be 1");
  }
  if (uploadLength === undefined) return err("Upload-Length (or Upload-Defer-Length: 1) header missing");
  return parseByteCount("Upload-Length", uploadLength);
}

const METADATA_KEY = /^[\x21-\x2b\x2d-\x7e]+$/; // printable ASCII without space and comma
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes `Upload-Metadata`: `key base64, key2 base64, key3`; keys unique, values UTF-8. */
export function parseMetadata(header: string | undefined): Result<TusMetadata> {
  const metadata: TusMetadata = {};
  if (header === undefined || header.trim() === "") return ok(metadata);
  for (const pair of header.split(",")) {
    const parts = pair.trim().split(" ");
    const [key, encoded = ""] = parts;
    if (parts.length > 2 || !METADATA_KEY.test(key)) {
      return err(`Upload-Metadata: malformed pair ${JSON.stringify(pair.trim().slice(0, 60))}`);
    }
    if (Object.hasOwn(metadata, key)) return err(`Upload-Metadata: key ${JSON.stringify(key)} given twice`);
    const value = decodeBase64Utf8(encoded);
    if (value === undefined) return err(`Upload-Metadata: value of ${JSON.stringify(key)} is not base64 of UTF-8`);
    metadata[key] = value;
  }
  return ok(metadata);
}

/** Encodes metadata back into the `Upload-Metadata` form (for HEAD). */
export function formatMetadata(metadata: TusMetadata): string {
  return Object.entries(metadata)
    .map(([key, value]) => value === "" ? key : `${key} ${encodeBase64Utf8(value)}`)
    .join(",");
}

/** A parsed `Upload-Checksum`: algorithm and the raw digest bytes. */
export interface TusChecksum {
  algorithm: TusChecksumAlgorithm;
  digest: Uint8Array;
}

/** Parses `Upload-Checksum: <algorithm> <base64 digest>`; undefined header → null. */
export function parseChecksum(header: string | undefined): Result<TusChecksum | null> {
  if (header === undefined) return ok(null);
  const [name, encoded, ...rest] = header.trim().split(" ");
  if (rest.length > 0 || encoded === undefined || !BASE64.test(encoded) || encoded === "") {
    return err("Upload-Checksum must be `<algorithm> <base64 digest>`");
  }
  const algorithm = TUS_CHECKSUM_ALGORITHMS.find((known) => known === name.toLowerCase());
  if (!algorithm) {
    return err(`unsupported checksum algorithm ${JSON.stringify(name)}; use ${TUS_CHECKSUM_ALGORITHMS.join(", ")}`);
  }
  return ok({ algorithm, digest: Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0)) });
}

/** `Upload-Concat` of an upload: a partial, or the final made of partials (upload ids, in order). */
export type TusConcat = { kind: "partial" } | { kind: "final"; partIds: string[] };

/**
 * Parses `Upload-Concat` on a creation in project `projectId`: `partial`, or
 * `final;<url> <url> …` where each URL (absolute or a path) names an upload
 * of that same project; undefined header → null.
 */
export function parseUploadConcat(header: string | undefined, projectId: string): Result<TusConcat | null> {
  if (header === undefined) return ok(null);
  const value = header.trim();
  if (value === "partial") return ok({ kind: "partial" });
  if (!value.startsWith("final;")) return err("Upload-Concat must be `partial` or `final;<url> <url> …`");
  const urls = value.slice("final;".length).trim().split(/ +/).filter(Boolean);
  if (urls.length === 0) return err("Upload-Concat: final lists no partial uploads");
  const partIds: string[] = [];
  for (const url of urls) {
    // Only the path counts: the host a client used (or a proxy rewrote) does not make it another upload.
    const path = URL.canParse(url) ? new URL(url).pathname : url;
    const [empty, files, project, uploadId, ...rest] = path.split("/");
    if (empty !== "" || files !== "files" || project !== projectId || !isUploadId(uploadId ?? "") || rest.length) {
      return err(`Upload-Concat: ${JSON.stringify(url.slice(0, 120))} is not an upload of this project`);
    }
    partIds.push(uploadId);
  }
  if (new Set(partIds).size !== partIds.length) return err("Upload-Concat: a partial upload is listed twice");
  return ok({ kind: "final", partIds });
}

/** `Upload-Concat` for HEAD: `partial`, or `final;` and the partials' paths. */
export function formatUploadConcat(concat: TusConcat, projectId: string): string {
  if (concat.kind === "partial") return "partial";
  return `final;${concat.partIds.map((id) => `/files/${projectId}/${id}`).join(" ")}`;
}

/** Upload ids are 32 lowercase hex digits: safe as file names and URL segments. */
export function newUploadId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** True for an id {@link newUploadId} could have made. */
export function isUploadId(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value);
}

function decodeBase64Utf8(encoded: string): string | undefined {
  if (!BASE64.test(encoded)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

function encodeBase64Utf8(value: string): string {
  return btoa(Array.from(new TextEncoder().encode(value), (byte) => String.fromCharCode(byte)).join(""));
}
