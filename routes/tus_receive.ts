/**
 * How bytes reach a tus upload and how an upload finishes: a body streams
 * into the upload's file, the new offset is recorded only after the file is
 * fsync'd, and a complete upload is recorded finished and announced
 * (post-finish hook, owner email); in a project with a public key it is
 * announced once the background sealer (storage/tus_sealing.ts) has encrypted
 * it. A partial upload (concatenation) is only recorded: its final upload is
 * what gets announced.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { getLogger } from "@logtape/logtape";
import type { TusChecksum } from "../domain/tus.ts";
import { countIngest } from "../metrics/ingest.ts";
import { RunningHashes } from "../storage/tus_running_hash.ts";
import type { TusUpload } from "../storage/types.ts";
import { clientAddress } from "./client_address.ts";
import type { TusRouteOptions } from "./tus.ts";
import type { HookRequest } from "./tus_hooks.ts";
import { httpDate } from "./tus_http.ts";

const log = getLogger(["fieldgate", "tus"]);

/** What one body write did to an upload; `refused` is the HTTP answer when it was refused. */
export type Received = { upload: TusUpload; refused: { status: 413 | 460; text: string } | null };

/** A refusal as a response; 460 (checksum mismatch) is tus's own status, unknown to Hono's types. */
export function refusal(c: Context, refused: { status: number; text: string }): Response {
  return c.text(`${refused.text}\n`, refused.status as ContentfulStatusCode);
}

/** The request as the hooks describe it. */
export function hookRequest(c: Context): HookRequest {
  return { method: c.req.method, uri: c.req.path, remoteAddr: clientAddress(c), headers: c.req.raw.headers };
}

/** `Upload-Offset`, and `Upload-Expires` while the upload can still expire (a partial until a final takes it). */
export function progressHeaders(upload: TusUpload): Record<string, string> {
  const headers: Record<string, string> = { "Upload-Offset": String(upload.offset) };
  if (upload.finishedAt === null || upload.concat?.kind === "partial") {
    headers["Upload-Expires"] = httpDate(upload.expiresAt);
  }
  return headers;
}

/** Writes bodies into uploads and finishes complete ones. */
export class TusReceiver {
  readonly #options: TusRouteOptions;
  readonly #hashes = new RunningHashes();

  constructor(options: TusRouteOptions) {
    this.#options = options;
  }

  /** When an upload touched now expires. */
  expiry(): Date {
    return new Date(Date.now() + this.#options.expireSeconds * 1000);
  }

  /** Streams `body` into the upload at its offset; records the durable offset, and finishes it once complete. */
  async receive(
    c: Context,
    upload: TusUpload,
    body: ReadableStream<Uint8Array> | null,
    checksum: TusChecksum | null,
  ): Promise<Received> {
    const { store, files, maxSizeBytes } = this.#options;
    const limit = (upload.length ?? maxSizeBytes) - upload.offset;
    // The file's SHA-256 grows with each PATCH, so finishing needs no second read of the whole file.
    const wholeFile = this.#hashes.take(upload.id, upload.offset);
    const outcome = await files.append(upload.projectId, upload.id, upload.offset, body, {
      limit,
      algorithm: checksum?.algorithm ?? null,
      idleTimeoutMs: this.#options.idleTimeoutSeconds * 1000,
      wholeFile,
    });
    let refused: Received["refused"] = null;
    if (outcome.ended === "too-large") {
      refused = { status: 413, text: `body runs past the upload's length (${upload.length ?? maxSizeBytes})` };
    } else if (checksum && (outcome.ended !== "complete" || !sameBytes(outcome.digest!, checksum.digest))) {
      // The spec discards a chunk whose checksum does not match; an interrupted chunk cannot be verified.
      refused = { status: 460, text: `${checksum.algorithm} checksum mismatch: chunk discarded` };
    }
    if (refused) {
      await files.truncate(upload.projectId, upload.id, upload.offset);
      return { upload, refused };
    }
    countIngest("tus_bytes", outcome.written);
    const updated = { ...upload, offset: upload.offset + outcome.written, expiresAt: this.expiry() };
    if (updated.offset !== updated.length) {
      await store.saveProgress(upload.id, updated);
      if (wholeFile) this.#hashes.keep(upload.id, updated.offset, wholeFile);
      return { upload: updated, refused };
    }
    // The last offset is recorded together with "finished": a crash while hashing leaves the old offset,
    // so the client sends its last chunk again instead of seeing a complete upload nobody finished.
    const sha256 = wholeFile?.digest("hex") ?? await files.sha256(upload.projectId, upload.id);
    const progress = { offset: updated.offset, length: updated.length };
    const finished = await this.finish(c, updated, sha256, (at) => store.finish(upload.id, progress, sha256, at));
    return { upload: finished, refused };
  }

  /**
   * Finishes a complete upload whose file is durable and hashed: `record`s it
   * finished, then announces it, or has it sealed first when its project
   * keeps uploads encrypted. A partial upload is only recorded: its bytes are
   * announced (and sealed) as part of its final upload.
   */
  async finish(
    c: Context,
    upload: TusUpload,
    sha256: string,
    record: (finishedAt: Date) => Promise<void>,
  ): Promise<TusUpload> {
    const finished = { ...upload, finishedAt: new Date(), sha256 };
    await record(finished.finishedAt);
    log.info("upload {id} into project {project} finished: {bytes} bytes, sha256 {sha256}", {
      id: upload.id,
      project: upload.projectId,
      bytes: upload.offset,
      sha256,
    });
    if (upload.concat?.kind === "partial") return finished;
    countIngest("tus_uploads");
    const { files, hooks, atRest, sealer } = this.#options;
    const request = hookRequest(c);
    const announce = (stored: string) => hooks.postFinish(finished, stored, request);
    if (await atRest.projectKey(upload) === null) announce(files.path(upload.projectId, upload.id));
    else sealer.add(finished, announce);
    return finished;
  }
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}
