/**
 * The final upload of a tus concatenation (`Upload-Concat: final;<url> …`):
 * made from finished partial uploads of the same project, in order. The
 * partials' files are copied into the final's file, which is fsync'd and
 * hashed before the final is recorded finished, in the same transaction that
 * forgets the partials; only then are the partials' files removed and the
 * creation acknowledged. A crash before that leaves an unfinished final
 * (never a short "finished" one) that expires, and the partials to retry with.
 */
import type { Context } from "hono";
import type { TusConcat, TusMetadata } from "../domain/tus.ts";
import type { TusUpload } from "../storage/types.ts";
import type { UploadLocks } from "../storage/upload_locks.ts";
import type { TusRouteOptions } from "./tus.ts";
import type { Admit } from "./tus_create.ts";
import { progressHeaders, type TusReceiver } from "./tus_receive.ts";

/** Creates and completes the final upload of `concat`; answers 201 once it is finished. */
export async function createFinal(
  c: Context,
  options: TusRouteOptions,
  receiver: TusReceiver,
  admit: Admit,
  request: { projectId: string; metadata: TusMetadata; concat: TusConcat & { kind: "final" } },
): Promise<Response> {
  const { store, files, locks } = options;
  const { projectId, concat } = request;
  if (c.req.header("Upload-Length") !== undefined || c.req.header("Upload-Defer-Length") !== undefined) {
    return c.text("a final upload takes its length from its partial uploads: send no Upload-Length\n", 400);
  }
  const parts = await finishedPartials(store, projectId, concat.partIds);
  if (typeof parts === "string") return c.text(`${parts}\n`, 400);
  const length = parts.reduce((sum, part) => sum + part.length!, 0);
  if (length > options.maxSizeBytes) {
    return c.text(
      `the partial uploads add up to more than this server's maximum of ${options.maxSizeBytes} bytes\n`,
      413,
    );
  }
  // The partials' bytes already count towards the quota; the final takes them over.
  const final = await admit(c, { projectId, length, metadata: request.metadata, concat, takenOverBytes: length });
  if (final instanceof Response) return final;

  const discard = async () => {
    await store.deleteUpload(final.id);
    await files.remove(projectId, final.id);
  };
  // The partials' locks keep the cleanup (and a second final naming them) away while their bytes are copied.
  const answer = await withLocks(locks, concat.partIds, async () => {
    const current = await finishedPartials(store, projectId, concat.partIds);
    if (typeof current === "string") {
      await discard();
      return c.text(`${current}\n`, 400);
    }
    const sha256 = await files.concatenate(projectId, final.id, concat.partIds).catch(async (error) => {
      await discard();
      throw error;
    });
    const progress = { offset: length, length };
    const finished = await receiver.finish(
      c,
      { ...final, offset: length },
      sha256,
      (at) => store.finishConcatenation(final.id, progress, sha256, at, concat.partIds),
    );
    for (const partId of concat.partIds) await files.remove(projectId, partId);
    return c.body(null, 201, { Location: `/files/${projectId}/${final.id}`, ...progressHeaders(finished) });
  });
  if (answer !== null) return answer;
  await discard();
  return c.text("a partial upload is busy (a PATCH or another concatenation); retry\n", 409);
}

/** The partial uploads, each finished and of this project, or why they cannot form a final upload. */
async function finishedPartials(
  store: TusRouteOptions["store"],
  projectId: string,
  partIds: string[],
): Promise<TusUpload[] | string> {
  const parts: TusUpload[] = [];
  const now = new Date();
  for (const id of partIds) {
    const part = await store.upload(id);
    // Another project's upload gets the same answer as a missing one: ids are not confirmed across projects.
    if (part === null || part.projectId !== projectId) return `no such partial upload ${id} in this project`;
    if (part.concat?.kind !== "partial") return `upload ${id} was not created with Upload-Concat: partial`;
    if (part.finishedAt === null) return `partial upload ${id} is not finished yet`;
    if (part.expiresAt <= now) return `partial upload ${id} has expired`;
    parts.push(part);
  }
  return parts;
}

/** Runs `work` holding every id's lock (taken in order); null when one is held elsewhere. */
function withLocks<T>(locks: UploadLocks, ids: string[], work: () => Promise<T>): Promise<T | null> {
  if (ids.length === 0) return work();
  return locks.with<T | null>(ids[0], () => withLocks(locks, ids.slice(1), work), () => null);
}
