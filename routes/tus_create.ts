/**
 * tus creation (`POST /files/<project>/`): ordinary and partial uploads, with
 * or without their first bytes (creation-with-upload), and the final upload
 * of a concatenation (tus_concat.ts). The project is bound server-side,
 * whatever the client sent.
 */
import type { Context } from "hono";
import { getLogger } from "@logtape/logtape";
import { checkPreCreate, isProjectId } from "../domain/dropoff.ts";
import {
  isTusContentType,
  newUploadId,
  parseChecksum,
  parseCreationLength,
  parseMetadata,
  parseUploadConcat,
  type TusConcat,
  type TusMetadata,
} from "../domain/tus.ts";
import type { TusUpload } from "../storage/types.ts";
import { KeyedQueue } from "./keyed_queue.ts";
import type { TusRouteOptions } from "./tus.ts";
import { createFinal } from "./tus_concat.ts";
import { hookRequest, progressHeaders, refusal, type TusReceiver } from "./tus_receive.ts";

const log = getLogger(["fieldgate", "tus"]);

/** What a creation asks for, before the project's checks. */
export interface CreationRequest {
  projectId: string;
  length: number | null;
  /** Client metadata, the upload code included (it never reaches the record). */
  metadata: TusMetadata;
  concat: TusConcat | null;
  /** Bytes already counted in the project's quota that the new upload takes over (a final's partials). */
  takenOverBytes: number;
}

/** Records a new upload once the project's checks and the pre-create hook allow it; else the refusal. */
export type Admit = (c: Context, request: CreationRequest) => Promise<TusUpload | Response>;

/** The POST handler creating uploads in `/files/<project>/`. */
export function creationHandler(options: TusRouteOptions, receiver: TusReceiver): (c: Context) => Promise<Response> {
  const { store, files } = options;
  const creations = new KeyedQueue();

  // Quota check and record creation happen one project at a time, so two creations cannot both fit in the
  // room left for one: in this process by the queue, across instances sharing a database by its project lock.
  const admit: Admit = (c, request) =>
    creations.oneAtATime(request.projectId, async () => {
      const unlock = await store.lockProject(request.projectId);
      try {
        return await admitLocked(c, request);
      } finally {
        await unlock();
      }
    });

  const admitLocked = async (c: Context, request: CreationRequest): Promise<TusUpload | Response> => {
    const { projectId, length, metadata } = request;
    const found = isProjectId(projectId) ? await store.project(projectId) : null;
    // A partial is a piece of a file: its type is checked on the final upload, which names the file.
    const project = found && request.concat?.kind === "partial" ? { ...found, allowedTypes: [] } : found;
    const decision = checkPreCreate({
      project,
      code: c.req.header("Upload-Code") ?? metadata.code,
      length,
      metadata,
      usedBytes: project ? await store.projectBytes(project.id) - request.takenOverBytes : 0,
      now: new Date(),
    });
    if (!decision.ok) return c.text(`${decision.error.message}\n`, decision.error.status);

    const { code: _code, ...kept } = metadata;
    const upload: TusUpload = {
      id: newUploadId(),
      projectId,
      length,
      offset: 0,
      metadata: { ...kept, project: projectId },
      createdAt: new Date(),
      expiresAt: receiver.expiry(),
      finishedAt: null,
      sha256: null,
      concat: request.concat,
    };
    const hook = await options.hooks.preCreate(upload, metadata, hookRequest(c));
    if (hook === "refused") return c.text("the project's back end refused this upload (pre-create hook)\n", 403);
    if (hook === "unreachable") return c.text("the project's back end cannot be reached; retry later\n", 503);
    await files.create(projectId, upload.id);
    await store.createUpload(upload);
    log.info("upload {id} created in project {project}", { id: upload.id, project: projectId, length });
    return upload;
  };

  return async (c) => {
    const projectId = c.req.param("project")!;
    const metadata = parseMetadata(c.req.header("Upload-Metadata"));
    if (!metadata.ok) return c.text(`${metadata.error}\n`, 400);
    const concat = parseUploadConcat(c.req.header("Upload-Concat"), projectId);
    if (!concat.ok) return c.text(`${concat.error}\n`, 400);
    if (concat.value?.kind === "final") {
      return await createFinal(c, options, receiver, admit, {
        projectId,
        metadata: metadata.value,
        concat: concat.value,
      });
    }
    const length = parseCreationLength(c.req.header("Upload-Length"), c.req.header("Upload-Defer-Length"));
    if (!length.ok) return c.text(`${length.error}\n`, 400);
    if (length.value !== null && length.value > options.maxSizeBytes) {
      return c.text(`Upload-Length over this server's maximum of ${options.maxSizeBytes} bytes\n`, 413);
    }
    const withBody = isTusContentType(c.req.header("Content-Type"));
    const checksum = withBody ? parseChecksum(c.req.header("Upload-Checksum")) : { ok: true as const, value: null };
    if (!checksum.ok) return c.text(`${checksum.error}\n`, 400);

    const upload = await admit(c, {
      projectId,
      length: length.value,
      metadata: metadata.value,
      concat: concat.value,
      takenOverBytes: 0,
    });
    if (upload instanceof Response) return upload;
    const location = { Location: `/files/${projectId}/${upload.id}` };
    // An empty file is complete at creation (clients send no PATCH for it): receive finishes it.
    if (!withBody && upload.length !== 0) return c.body(null, 201, { ...location, ...progressHeaders(upload) });
    const received = await receiver.receive(c, upload, withBody ? c.req.raw.body : null, checksum.value);
    if (received.refused) {
      // Clients treat a refused creation as failed and never use its URL: keep nothing of it (nor its quota).
      await store.deleteUpload(upload.id);
      await files.remove(projectId, upload.id);
      return refusal(c, received.refused);
    }
    return c.body(null, 201, { ...location, ...progressHeaders(received.upload) });
  };
}
