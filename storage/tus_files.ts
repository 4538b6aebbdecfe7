/**
 * The files behind tus uploads: `<root>/<project id>/<upload id>`, one file
 * per upload, written in place as PATCH bodies stream in. The client's file
 * name never becomes a path; ids are checked before any path is built.
 */
import { createHash, type Hash } from "node:crypto";
import { dirname } from "node:path";
import { isProjectId } from "../domain/dropoff.ts";
import { isUploadId, type TusChecksumAlgorithm } from "../domain/tus.ts";
import { FileBlobStore, pathExists, UnsafePathError } from "./blob_fs.ts";
import { syncDir } from "./directory_sync.ts";
import { BACKGROUND_SYNC_BYTES, BodyReader, IdleWatchdog, WriteBuffer } from "./tus_body.ts";
import { DiskFlusher } from "./disk_flusher.ts";

/** How a streamed append ended. */
export interface AppendOutcome {
  /** Bytes written and fsync'd (all of them are on disk, whatever `ended` says). */
  written: number;
  /** `complete`: body ended; `too-large`: more than the limit arrived; `interrupted`: the body failed or stalled. */
  ended: "complete" | "too-large" | "interrupted";
  /** Digest of the written bytes, when an algorithm was asked for. */
  digest: Uint8Array | null;
}

/** Upload files under one root directory (never served directly). */
export class TusFileStore {
  readonly #paths: FileBlobStore;

  constructor(root: string) {
    this.#paths = new FileBlobStore(root);
  }

  /** Absolute root directory. */
  get root(): string {
    return this.#paths.root;
  }

  /** Absolute path of an upload's file; throws for ids that are not ours. */
  path(projectId: string, uploadId: string): string {
    if (!isProjectId(projectId) || !isUploadId(uploadId)) {
      throw new UnsafePathError(`not a project/upload id: ${projectId}/${uploadId}`);
    }
    return this.#paths.resolve(`${projectId}/${uploadId}`);
  }

  /** Creates the empty upload file durably (file and directory entries fsync'd). */
  async create(projectId: string, uploadId: string): Promise<void> {
    const path = this.path(projectId, uploadId);
    const directory = dirname(path);
    if (!(await pathExists(directory))) {
      await Deno.mkdir(directory, { recursive: true, mode: 0o750 });
      // The new project directory (and on first use the root) must survive a power loss too.
      await syncDir(this.root);
      await syncDir(dirname(this.root));
    }
    (await Deno.open(path, { write: true, createNew: true, mode: 0o640 })).close();
    await syncDir(directory);
  }

  /**
   * Writes `body` at `offset` as it arrives, at most `limit` bytes, then
   * fsyncs. Bytes past `offset` left by a crash (written, never recorded) are
   * cut off first, so the file always continues exactly at the recorded offset.
   * `wholeFile`, when given, is updated with every byte written.
   */
  async append(
    projectId: string,
    uploadId: string,
    offset: number,
    body: ReadableStream<Uint8Array> | null,
    options: { limit: number; algorithm: TusChecksumAlgorithm | null; idleTimeoutMs: number; wholeFile: Hash | null },
  ): Promise<AppendOutcome> {
    const { file, backgroundSync } = await openForWriting(this.path(projectId, uploadId));
    const checksum: Hash | null = options.algorithm ? createHash(options.algorithm) : null;
    let written = 0;
    let ended: AppendOutcome["ended"] = "complete";
    try {
      await file.truncate(offset);
      await file.seek(offset, Deno.SeekMode.Start);
      const reader = body ? new BodyReader(body) : null;
      const hashes = [checksum, options.wholeFile].filter((hash) => hash !== null);
      const pending = new WriteBuffer(file, hashes, backgroundSync);
      const watchdog = reader ? new IdleWatchdog(options.idleTimeoutMs) : null;
      try {
        while (reader && watchdog) {
          let bytes: Uint8Array | null;
          try {
            bytes = await watchdog.watch(reader.read());
          } catch {
            // The client went away or stalled mid-body: keep what reached us; the caller records it.
            ended = "interrupted";
            await reader.cancel();
            break;
          }
          if (bytes === null) break;
          if (written + bytes.length > options.limit) {
            ended = "too-large";
            break;
          }
          // A write error (disk full) is ours, not the client's: it propagates, nothing is recorded, and the
          // next PATCH cuts the file back to the recorded offset.
          await pending.add(bytes);
          written += bytes.length;
        }
      } finally {
        watchdog?.stop();
      }
      await pending.flush();
      await file.sync();
    } finally {
      file.close();
      backgroundSync.handle.close();
    }
    return { written, ended, digest: checksum ? new Uint8Array(checksum.digest()) : null };
  }

  /**
   * Writes the partial uploads' files one after another into the (final)
   * upload's file, from its start, and fsyncs it; returns the SHA-256 (hex)
   * of what was written. The partials' files stay: the caller removes them
   * once the final is recorded finished.
   */
  async concatenate(projectId: string, uploadId: string, partIds: string[]): Promise<string> {
    const hash = createHash("sha256");
    const { file, backgroundSync } = await openForWriting(this.path(projectId, uploadId));
    try {
      await file.truncate(0);
      const pending = new WriteBuffer(file, [hash], backgroundSync);
      for (const partId of partIds) {
        const part = await Deno.open(this.path(projectId, partId), { read: true });
        for await (const chunk of part.readable) await pending.add(chunk);
      }
      await pending.flush();
      await file.sync();
    } finally {
      file.close();
      backgroundSync.handle.close();
    }
    return hash.digest("hex");
  }

  /** Cuts the file back to `length` bytes (discarding a refused chunk) and fsyncs. */
  async truncate(projectId: string, uploadId: string, length: number): Promise<void> {
    const file = await Deno.open(this.path(projectId, uploadId), { write: true });
    try {
      await file.truncate(length);
      await file.sync();
    } finally {
      file.close();
    }
  }

  /** SHA-256 (hex) of the whole file, read in a stream. */
  async sha256(projectId: string, uploadId: string): Promise<string> {
    const hash = createHash("sha256");
    const file = await Deno.open(this.path(projectId, uploadId), { read: true });
    for await (const chunk of file.readable) hash.update(chunk);
    return hash.digest("hex");
  }

  /** Opens the file for reading (authorised download). */
  async open(projectId: string, uploadId: string): Promise<{ size: number; stream: ReadableStream<Uint8Array> }> {
    const file = await Deno.open(this.path(projectId, uploadId), { read: true });
    return { size: (await file.stat()).size, stream: file.readable };
  }

  /**
   * Every upload on disk, once per upload id, with the newest modification
   * time of its names: the plaintext `<id>`, and the encrypted copy `<id>.gpg`
   * or `<id>.gpg.partial` of an at-rest project (tus_at_rest.ts). Names that are
   * not ours are skipped.
   */
  async *files(): AsyncGenerator<UploadOnDisk> {
    const projects = await Array.fromAsync(Deno.readDir(this.root)).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    });
    for (const project of projects) {
      if (!project.isDirectory || !isProjectId(project.name)) continue;
      const uploads = new Map<string, UploadOnDisk>();
      for await (const entry of Deno.readDir(`${this.root}/${project.name}`)) {
        const uploadId = entry.isFile ? uploadIdOfName(entry.name) : null;
        if (uploadId === null) continue;
        const info = await Deno.stat(`${this.root}/${project.name}/${entry.name}`).catch(() => null);
        if (info === null) continue;
        const seen = uploads.get(uploadId) ??
          { projectId: project.name, uploadId, modifiedAt: new Date(0), plaintext: false };
        const modifiedAt = info.mtime ?? new Date(0);
        if (modifiedAt > seen.modifiedAt) seen.modifiedAt = modifiedAt;
        seen.plaintext ||= entry.name === uploadId;
        uploads.set(uploadId, seen);
      }
      yield* uploads.values();
    }
  }

  /** Removes every name of the upload: plaintext and encrypted copies (already gone is fine). */
  async remove(projectId: string, uploadId: string): Promise<void> {
    const path = this.path(projectId, uploadId);
    for (const suffix of ["", ...SEALED_SUFFIXES]) await removeIfPresent(`${path}${suffix}`);
    await syncDir(dirname(path)).catch(() => {});
  }

  /** Removes only the plaintext name of the upload, keeping its encrypted copy (already gone is fine). */
  async removePlaintext(projectId: string, uploadId: string): Promise<void> {
    const path = this.path(projectId, uploadId);
    await removeIfPresent(path);
    await syncDir(dirname(path)).catch(() => {});
  }
}

/** An upload's files as {@link TusFileStore.files} finds them. */
export interface UploadOnDisk {
  projectId: string;
  uploadId: string;
  /** Newest modification time among the upload's names. */
  modifiedAt: Date;
  /** Whether the plaintext name `<id>` exists (it does while the upload is in progress). */
  plaintext: boolean;
}

/** Suffixes of an upload's encrypted copy, finished and being written (tus_at_rest.ts). */
export const SEALED_SUFFIX = ".gpg";
const SEALED_SUFFIXES = [SEALED_SUFFIX, `${SEALED_SUFFIX}.partial`];

/** The upload id a file name belongs to, or null for a name that is not an upload's. */
function uploadIdOfName(name: string): string | null {
  const suffix = SEALED_SUFFIXES.find((candidate) => name.endsWith(candidate)) ?? "";
  const id = name.slice(0, name.length - suffix.length);
  return isUploadId(id) ? id : null;
}

async function removeIfPresent(path: string): Promise<void> {
  await Deno.remove(path).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

/** The writing handle on an upload's file, and a second one for the {@link WriteBuffer}'s background syncs. */
async function openForWriting(
  path: string,
): Promise<{ file: Deno.FsFile; backgroundSync: { handle: DiskFlusher; everyBytes: number } }> {
  const file = await Deno.open(path, { write: true });
  try {
    return { file, backgroundSync: { handle: await DiskFlusher.open(path), everyBytes: BACKGROUND_SYNC_BYTES } };
  } catch (error) {
    file.close();
    throw error;
  }
}
