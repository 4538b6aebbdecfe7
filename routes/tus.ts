/**
 * The tus 1.0 server at `/files/<project uuid>/`: POST creates (optionally
 * with the first bytes), `/files/<project>/<upload>` answers HEAD, PATCH and
 * DELETE. A PATCH body streams into the upload's file; the new offset is
 * recorded only after the file is fsync'd, and only then acknowledged.
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { getLogger } from "@logtape/logtape";
import { checkPreCreate, isProjectId } from "../domain/dropoff.ts";
import {
  formatMetadata,
  isTusContentType,
  isUploadId,
  newUploadId,
  parseByteCount,
  parseChecksum,
  parseCreationLength,
  parseMetadata,
  TUS_CONTENT_TYPE,
  type TusChecksum,
} from "../domain/tus.ts";
import { TusAtRest } from "../storage/tus_at_rest.ts";
import type { TusFileStore } from "../storage/tus_files.ts";
import type { DropoffStore, TusUpload } from "../storage/types.ts";
import type { UploadLocks } from "../storage/upload_locks.ts";
import { clientAddress } from "./client_address.ts";
import { KeyedQueue } from "./keyed_queue.ts";
import { discoveryHeaders, httpDate, requireTusVersion, tusCors } from "./tus_http.ts";
import type { HookRequest, TusHooks } from "./tus_hooks.ts";
import { countIngest } from "../metrics/ingest.ts";

const log = getLogger(["fieldgate", "tus"]);

/** What the tus routes need. */
export interface TusRouteOptions {
  store: DropoffStore;
  files: TusFileStore;
  /** Shared with the cleanup, so it never removes an upload mid-PATCH. */
  locks: UploadLocks;
  /** Largest upload accepted, bytes (`Tus-Max-Size`). */
  maxSizeBytes: number;
  /** An unfinished upload expires this long after its last PATCH. */
  expireSeconds: number;
  /** A PATCH body silent this long counts as interrupted. */
  idleTimeoutSeconds: number;
  /** `*` or comma-separated origins allowed by CORS. */
  corsOrigins: string;
  /** pre-create / post-finish hooks for an existing back end. */
  hooks: TusHooks;
}

function hookRequest(c: Context): HookRequest {
  return { method: c.req.method, uri: c.req.path, remoteAddr: clientAddress(c), headers: c.req.raw.headers };
}

/** What one body write did to an upload; `status` is the HTTP answer when it was refused. */
type Received = { upload: TusUpload; refused: { status: 413 | 460; text: string } | null };

/** A refusal as a response; 460 (checksum mismatch) is tus's own status, unknown to Hono's types. */
function refusal(c: Context, refused: { status: number; text: string }) {
  return c.text(`${refused.text}\n`, refused.status as ContentfulStatusCode);
}

/** The tus server as a Hono sub-app. */
export function tusRoutes(options: TusRouteOptions): Hono {
  const { store, files, locks } = options;
  const atRest = new TusAtRest(store, files);
  const app = new Hono();
  const expiry = () => new Date(Date.now() + options.expireSeconds * 1000);
  app.use("/files/*", tusCors(options.corsOrigins, discoveryHeaders(options.maxSizeBytes)), requireTusVersion);
  app.options("/files/*", (c) => c.body(null, 204, discoveryHeaders(options.maxSizeBytes)));

  /** Streams `body` into the upload at its offset; records the durable offset, and the checksum once complete. */
  async function receive(
    c: Context,
    upload: TusUpload,
    body: ReadableStream<Uint8Array> | null,
    checksum: TusChecksum | null,
  ) {
    const limit = (upload.length ?? options.maxSizeBytes) - upload.offset;
    const outcome = await files.append(upload.projectId, upload.id, upload.offset, body, {
      limit,
      algorithm: checksum?.algorithm ?? null,
      idleTimeoutMs: options.idleTimeoutSeconds * 1000,
    });
    let refused: Received["refused"] = null;
    if (outcome.ended === "too-large") {
      refused = { status: 413, text: `body runs past the upload's length (${upload.length ?? options.maxSizeBytes})` };
    } else if (checksum && (outcome.ended !== "complete" || !sameBytes(outcome.digest!, checksum.digest))) {
      // The spec discards a chunk whose checksum does not match; an interrupted chunk cannot be verified.
      refused = { status: 460, text: `${checksum.algorithm} checksum mismatch: chunk discarded` };
    }
    if (refused) {
      await files.truncate(upload.projectId, upload.id, upload.offset);
      return { upload, refused } satisfies Received;
    }
    const updated = { ...upload, offset: upload.offset + outcome.written, expiresAt: expiry() };
    if (updated.offset !== updated.length) {
      await store.saveProgress(upload.id, updated);
    } else {
      // The last offset is recorded together with "finished": a crash while hashing leaves the old offset,
      // so the client sends its last chunk again instead of seeing a complete upload nobody finished.
      const sha256 = await files.sha256(upload.projectId, upload.id);
      // A project with a public key keeps only ciphertext, sealed before "finished" is recorded (tus_at_rest.ts).
      const publicKey = await atRest.projectKey(upload);
      if (publicKey !== null) await atRest.seal(upload, publicKey);
      updated.finishedAt = new Date();
      updated.sha256 = sha256;
      await store.finish(upload.id, { offset: updated.offset, length: updated.length }, sha256, updated.finishedAt);
      if (publicKey !== null) await atRest.dropPlaintext(upload);
      log.info("upload {id} into project {project} finished: {bytes} bytes, sha256 {sha256}", {
        id: upload.id,
        project: upload.projectId,
        bytes: updated.offset,
        sha256,
      });
      const stored = publicKey === null ? files.path(upload.projectId, upload.id) : atRest.sealedPath(upload);
      options.hooks.postFinish(updated, stored, hookRequest(c));
      countIngest("tus_uploads");
    }
    countIngest("tus_bytes", outcome.written);
    return { upload: updated, refused } satisfies Received;
  }

  function progressHeaders(upload: TusUpload): Record<string, string> {
    const headers: Record<string, string> = { "Upload-Offset": String(upload.offset) };
    if (upload.finishedAt === null) headers["Upload-Expires"] = httpDate(upload.expiresAt);
    return headers;
  }

  const creations = new KeyedQueue();
  const create = async (c: Context) => {
    const projectId = c.req.param("project")!;
    const length = parseCreationLength(c.req.header("Upload-Length"), c.req.header("Upload-Defer-Length"));
    if (!length.ok) return c.text(`${length.error}\n`, 400);
    if (length.value !== null && length.value > options.maxSizeBytes) {
      return c.text(`Upload-Length over this server's maximum of ${options.maxSizeBytes} bytes\n`, 413);
    }
    const metadata = parseMetadata(c.req.header("Upload-Metadata"));
    if (!metadata.ok) return c.text(`${metadata.error}\n`, 400);
    const withBody = isTusContentType(c.req.header("Content-Type"));
    const checksum = withBody ? parseChecksum(c.req.header("Upload-Checksum")) : { ok: true as const, value: null };
    if (!checksum.ok) return c.text(`${checksum.error}\n`, 400);

    // Quota check and record creation happen one project at a time, so two creations cannot both fit in the
    // room left for one (one instance; several instances sharing a database may still overshoot by one file).
    const created = await creations.oneAtATime(projectId, async (): Promise<TusUpload | Response> => {
      const project = isProjectId(projectId) ? await store.project(projectId) : null;
      const decision = checkPreCreate({
        project,
        code: c.req.header("Upload-Code") ?? metadata.value.code,
        length: length.value,
        metadata: metadata.value,
        usedBytes: project ? await store.projectBytes(project.id) : 0,
        now: new Date(),
      });
      if (!decision.ok) return c.text(`${decision.error.message}\n`, decision.error.status);

      // The code never stays in the record; the project is bound server-side, whatever the client sent.
      const { code: _code, ...kept } = metadata.value;
      const now = new Date();
      const upload: TusUpload = {
        id: newUploadId(),
        projectId,
        length: length.value,
        offset: 0,
        metadata: { ...kept, project: projectId },
        createdAt: now,
        expiresAt: expiry(),
        finishedAt: null,
        sha256: null,
      };
      const hook = await options.hooks.preCreate(upload, metadata.value, hookRequest(c));
      if (hook === "refused") return c.text("the project's back end refused this upload (pre-create hook)\n", 403);
      if (hook === "unreachable") return c.text("the project's back end cannot be reached; retry later\n", 503);
      await files.create(projectId, upload.id);
      await store.createUpload(upload);
      return upload;
    });
    if (created instanceof Response) return created;
    const upload = created;
    const location = { Location: `/files/${projectId}/${upload.id}` };
    log.info("upload {id} created in project {project}", { id: upload.id, project: projectId, length: length.value });
    // An empty file is complete at creation (clients send no PATCH for it): receive finishes it.
    if (!withBody && upload.length !== 0) return c.body(null, 201, { ...location, ...progressHeaders(upload) });
    const received = await receive(c, upload, withBody ? c.req.raw.body : null, checksum.value);
    if (received.refused) {
      // Clients treat a refused creation as failed and never use its URL: keep nothing of it (nor its quota).
      await store.deleteUpload(upload.id);
      await files.remove(projectId, upload.id);
      return refusal(c, received.refused);
    }
    return c.body(null, 201, { ...location, ...progressHeaders(received.upload) });
  };
  app.post("/files/:project/", create);
  app.post("/files/:project", create);

  /** The upload addressed by the URL, or the 404/410 answer. */
  async function find(c: Context): Promise<TusUpload | Response> {
    const projectId = c.req.param("project")!;
    const uploadId = c.req.param("upload")!;
    const upload = isUploadId(uploadId) ? await store.upload(uploadId) : null;
    if (upload === null || upload.projectId !== projectId) return c.text("no such upload\n", 404);
    if (upload.finishedAt === null && upload.expiresAt <= new Date()) return c.text("upload expired\n", 410);
    return upload;
  }

  // Hono answers HEAD with the GET route (without a body): that is the tus HEAD.
  app.get("/files/:project/:upload", async (c) => {
    if (c.req.method !== "HEAD") {
      return c.text("use HEAD for an upload's state\n", 405, { Allow: "HEAD, PATCH, DELETE" });
    }
    const upload = await find(c);
    if (upload instanceof Response) return upload;
    const headers: Record<string, string> = { ...progressHeaders(upload), "Cache-Control": "no-store" };
    if (upload.length === null) headers["Upload-Defer-Length"] = "1";
    else headers["Upload-Length"] = String(upload.length);
    if (Object.keys(upload.metadata).length > 0) headers["Upload-Metadata"] = formatMetadata(upload.metadata);
    return c.body(null, 200, headers);
  });

  const patch = async (c: Context): Promise<Response> => {
    if (!isTusContentType(c.req.header("Content-Type"))) {
      return c.text(`PATCH bodies must be ${TUS_CONTENT_TYPE}\n`, 415);
    }
    const offset = parseByteCount("Upload-Offset", c.req.header("Upload-Offset"));
    if (!offset.ok) return c.text(`${offset.error}\n`, 400);
    const checksum = parseChecksum(c.req.header("Upload-Checksum"));
    if (!checksum.ok) return c.text(`${checksum.error}\n`, 400);
    const found = await find(c);
    if (found instanceof Response) return found;
    return await locks.with<Response>(found.id, async () => {
      // Read again under the lock: another request or instance may have moved it on meanwhile.
      const upload = await store.upload(found.id);
      if (upload === null) return c.text("no such upload\n", 404);
      if (upload.offset !== offset.value) {
        return c.text(`Upload-Offset ${offset.value} does not match ${upload.offset}\n`, 409, {
          "Upload-Offset": String(upload.offset),
        });
      }
      if (upload.finishedAt !== null) return c.body(null, 204, progressHeaders(upload));
      const declared = c.req.header("Upload-Length");
      if (declared !== undefined && upload.length !== null && declared.trim() !== String(upload.length)) {
        return c.text(`Upload-Length cannot change once set (it is ${upload.length})\n`, 400);
      }
      if (declared !== undefined && upload.length === null) {
        const length = parseByteCount("Upload-Length", declared);
        if (!length.ok) return c.text(`${length.error}\n`, 400);
        if (length.value > options.maxSizeBytes) return c.text("Upload-Length over this server's maximum\n", 413);
        if (length.value < upload.offset) return c.text("Upload-Length below the bytes already received\n", 400);
        upload.length = length.value;
      }
      const contentLength = Number(c.req.header("Content-Length") ?? 0);
      if (contentLength > (upload.length ?? options.maxSizeBytes) - upload.offset) {
        return c.text("body runs past the upload's length\n", 413);
      }
      const received = await receive(c, upload, c.req.raw.body, checksum.value);
      if (received.refused) return refusal(c, received.refused);
      return c.body(null, 204, progressHeaders(received.upload));
    }, () => c.text("another PATCH to this upload is in progress; retry after it ends\n", 409));
  };

  const terminate = async (c: Context): Promise<Response> => {
    const found = await find(c);
    if (found instanceof Response) return found;
    if (found.finishedAt !== null) return c.text("finished uploads belong to the project owner now\n", 403);
    return await locks.with<Response>(found.id, async () => {
      // Read again under the lock: the last PATCH may have finished it meanwhile.
      const upload = await store.upload(found.id);
      if (upload === null) return c.text("no such upload\n", 404);
      if (upload.finishedAt !== null) return c.text("finished uploads belong to the project owner now\n", 403);
      await store.deleteUpload(found.id);
      await files.remove(found.projectId, found.id);
      log.info("upload {id} terminated by the client", { id: found.id });
      return c.body(null, 204);
    }, () => c.text("a PATCH to this upload is in progress\n", 409));
  };

  app.patch("/files/:project/:upload", patch);
  app.delete("/files/:project/:upload", terminate);
  // Clients behind proxies that block PATCH/DELETE send POST with X-HTTP-Method-Override (tus core).
  app.post("/files/:project/:upload", (c) => {
    const method = (c.req.header("X-HTTP-Method-Override") ?? "").toUpperCase();
    if (method === "PATCH") return patch(c);
    if (method === "DELETE") return terminate(c);
    return c.text("POST creates uploads at /files/<project>/; use PATCH, HEAD or DELETE on an upload\n", 405, {
      allow: "HEAD, PATCH, DELETE",
    });
  });
  return app;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}
