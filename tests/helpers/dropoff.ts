/** Drop-off test helpers: projects through the owner API, and raw tus requests. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { basicAuth } from "./server.ts";

/** A fetch bound to one server (TestServer.fetch, or one built for a child process). */
export type ServerFetch = (path: string, init?: RequestInit) => Promise<Response>;

/** Creates a project as the test logger account; returns its JSON. */
export async function createProject(
  fetch: ServerFetch,
  settings: Record<string, unknown> = {},
): Promise<{ id: string; uploadUrl: string }> {
  const response = await fetch("/api/projects", {
    method: "POST",
    headers: { ...basicAuth(), "content-type": "application/json" },
    body: JSON.stringify({ name: "field samples", ...settings }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return await response.json();
}

/** One upload as the owner's listing shows it (routes/projects.ts). */
export interface ListedUpload {
  id: string;
  filename: string | null;
  note: string | null;
  size: number | null;
  received: number;
  sha256: string | null;
  complete: boolean;
  encrypted: boolean;
  createdAt: string;
  finishedAt: string | null;
  diskName: string;
}

/** The project's uploads as its owner lists them (`GET /api/projects/<id>/uploads`). */
export async function listUploads(fetch: ServerFetch, projectId: string): Promise<ListedUpload[]> {
  const response = await fetch(`/api/projects/${projectId}/uploads`, { headers: basicAuth() });
  assert.equal(response.status, 200, await response.clone().text());
  return await response.json();
}

/**
 * Waits until the background sealer has encrypted the upload at rest (the
 * owner's listing says `encrypted`); returns the listing entry.
 */
export async function waitUntilEncrypted(
  fetch: ServerFetch,
  projectId: string,
  uploadId: string,
  timeoutMs = 30_000,
): Promise<ListedUpload> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entry = (await listUploads(fetch, projectId)).find((upload) => upload.id === uploadId);
    if (entry?.encrypted === true) return entry;
    if (Date.now() > deadline) throw new Error(`upload ${uploadId} not encrypted within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `Tus-Resumable` plus the given headers. */
export function tus(headers: Record<string, string> = {}): Record<string, string> {
  return { "Tus-Resumable": "1.0.0", ...headers };
}

/** `Upload-Metadata` for the given pairs. */
export function metadata(pairs: Record<string, string>): string {
  const encode = (value: string) => btoa(String.fromCharCode(...new TextEncoder().encode(value)));
  return Object.entries(pairs).map(([key, value]) => `${key} ${encode(value)}`).join(",");
}

/** POSTs a new upload of `length` bytes (null: deferred length); returns its URL path. */
export async function createUpload(
  fetch: ServerFetch,
  projectId: string,
  length: number | null,
  extra: Record<string, string> = {},
): Promise<string> {
  const declared: Record<string, string> = length === null
    ? { "Upload-Defer-Length": "1" }
    : { "Upload-Length": String(length) };
  const response = await fetch(`/files/${projectId}/`, { method: "POST", headers: tus({ ...declared, ...extra }) });
  await response.body?.cancel();
  assert.equal(response.status, 201);
  return response.headers.get("location")!;
}

/** PATCHes `body` at `offset`; returns the response (body consumed). */
export async function patch(
  fetch: ServerFetch,
  path: string,
  offset: number,
  body: BodyInit,
  extra: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  const response = await fetch(path, {
    method: "PATCH",
    headers: tus({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream", ...extra }),
    body,
    signal,
  });
  await response.body?.cancel();
  return response;
}

/** The upload's offset according to HEAD. */
export async function headOffset(fetch: ServerFetch, path: string): Promise<number> {
  const response = await fetch(path, { method: "HEAD", headers: tus() });
  assert.equal(response.status, 200);
  return Number(response.headers.get("upload-offset"));
}

/** Deterministic pseudo-random bytes (xorshift), so a test can regenerate any slice. */
export function testBytes(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state;
    bytes[i + 1] = state >>> 8;
    bytes[i + 2] = state >>> 16;
    bytes[i + 3] = state >>> 24;
  }
  return bytes;
}

/** SHA-256 hex of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
