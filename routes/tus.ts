/**
 * The tus 1.0 server at `/files/<project uuid>/`: POST creates (tus_create.ts,
 * tus_concat.ts), `/files/<project>/<upload>` answers HEAD, PATCH and
 * DELETE. A PATCH body streams into the upload's file; the new offset is
 * recorded only after the file is fsync'd, and only then acknowledged.
 */
import { type Context, Hono } from "hono";
import { getLogger } from "@logtape/logtape";
import {
  formatMetadata,
  formatUploadConcat,
  isTusContentType,
  isUploadId,
  parseByteCount,
  parseChecksum,
  TUS_CONTENT_TYPE,
} from "../domain/tus.ts";
import type { TusAtRest } from "../storage/tus_at_rest.ts";
import type { TusFileStore } from "../storage/tus_files.ts";
import type { BackgroundSealer } from "../storage/tus_sealing.ts";
import type { DropoffStore, TusUpload } from "../storage/types.ts";
import type { UploadLocks } from "../storage/upload_locks.ts";
import { creationHandler } from "./tus_create.ts";
import { discoveryHeaders, requireTusVersion, tusCors } from "./tus_http.ts";
import type { TusHooks } from "./tus_hooks.ts";
import { progressHeaders, refusal, TusReceiver } from "./tus_receive.ts";

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
  /** The encrypted side of uploads in projects with a public key. */
  atRest: TusAtRest;
  /** Seals finished uploads of such projects after their acknowledgement. */
  sealer: BackgroundSealer;
}

/** The tus server as a Hono sub-app. */
export function tusRoutes(options: TusRouteOptions): Hono {
  const { store, files, locks } = options;
  const receiver = new TusReceiver(options);
  const app = new Hono();
  app.use("/files/*", tusCors(options.corsOrigins, discoveryHeaders(options.maxSizeBytes)), requireTusVersion);
  app.options("/files/*", (c) => c.body(null, 204, discoveryHeaders(options.maxSizeBytes)));

  const create = creationHandler(options, receiver);
  app.post("/files/:project/", create);
  app.post("/files/:project", create);

  /** The upload addressed by the URL, or the 404/410 answer. */
  async function find(c: Context): Promise<TusUpload | Response> {
    const projectId = c.req.param("project")!;
    const uploadId = c.req.param("upload")!;
    const upload = isUploadId(uploadId) ? await store.upload(uploadId) : null;
    if (upload === null || upload.projectId !== projectId) return c.text("no such upload\n", 404);
    // A finished partial expires too, until a final upload takes it (tus_concat.ts).
    const expires = upload.finishedAt === null || upload.concat?.kind === "partial";
    if (expires && upload.expiresAt <= new Date()) return c.text("upload expired\n", 410);
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
    if (upload.concat !== null) headers["Upload-Concat"] = formatUploadConcat(upload.concat, upload.projectId);
    // The spec lets a final upload omit its offset until the concatenation is done (a crash can leave it so).
    if (upload.concat?.kind === "final" && upload.finishedAt === null) delete headers["Upload-Offset"];
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
    if (found.concat?.kind === "final") return c.text("a final upload is made of its partial uploads: no PATCH\n", 403);
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
      const received = await receiver.receive(c, upload, c.req.raw.body, checksum.value);
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
