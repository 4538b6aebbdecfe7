/**
 * Encryption at rest for projects with an OpenPGP public key: a finished
 * upload is kept only as `<upload id>.gpg`, encrypted to the project's key;
 * the owner decrypts offline (`gpg --decrypt`). Uploads stay plaintext while
 * they are in progress, because tus resumes by appending at an offset and
 * checks chunk checksums, which an OpenPGP stream cannot offer.
 *
 * Order on finish, so a crash anywhere leaves the durable plaintext or the
 * complete ciphertext, never a half file presented as done:
 * 1. the upload is recorded finished and acknowledged with its plaintext
 *    durable, like any upload;
 * 2. in the background (tus_sealing.ts), stream-encrypt into
 *    `<id>.gpg.partial`, fsync, rename to `<id>.gpg`, fsync the directory;
 * 3. remove the plaintext.
 * A crash before 3 leaves a finished upload with its plaintext:
 * {@link TusAtRest.recover} at the next start removes the plaintext when the
 * ciphertext is complete, or hands the upload back to be sealed again.
 * A file that already is an OpenPGP message to the project's key (encrypted
 * in the browser) is linked as is instead of being encrypted a second time.
 */
import { dirname } from "node:path";
import { getLogger } from "@logtape/logtape";
import type * as OpenPgp from "openpgp";
import { loadOpenpgp, parsePublicKey } from "../domain/project_key.ts";
import { pathExists } from "./blob_fs.ts";
import { syncDir } from "./directory_sync.ts";
import { SEALED_SUFFIX, type TusFileStore } from "./tus_files.ts";
import type { DropoffStore, TusUpload } from "./types.ts";

const log = getLogger(["fieldgate", "tus"]);

/** Bytes read to find an OpenPGP message's recipients: their key packets come first. */
const HEADER_BYTES = 64 * 1024;

/** The sealed (encrypted) side of upload files. */
export class TusAtRest {
  readonly #store: DropoffStore;
  readonly #files: TusFileStore;

  constructor(store: DropoffStore, files: TusFileStore) {
    this.#store = store;
    this.#files = files;
  }

  /** Path of the encrypted copy of an upload. */
  sealedPath(upload: Pick<TusUpload, "projectId" | "id">): string {
    return `${this.#files.path(upload.projectId, upload.id)}${SEALED_SUFFIX}`;
  }

  /** The project's armored key when its uploads are kept encrypted, else null. */
  async projectKey(upload: TusUpload): Promise<string | null> {
    return (await this.#store.project(upload.projectId))?.publicKey ?? null;
  }

  /**
   * The upload, read again, with its project's key, when it still waits for
   * sealing: finished, not a piece of a concatenation, in a project with a
   * key, and its plaintext still there. Null otherwise (deleted, sealed, …).
   */
  async stillToSeal(uploadId: string): Promise<{ upload: TusUpload; publicKey: string } | null> {
    const upload = await this.#store.upload(uploadId);
    if (upload === null || upload.finishedAt === null || upload.concat?.kind === "partial") return null;
    const publicKey = await this.projectKey(upload);
    if (publicKey === null || !(await pathExists(this.#files.path(upload.projectId, upload.id)))) return null;
    return { upload, publicKey };
  }

  /** Writes `<id>.gpg` durably from the complete plaintext upload (step 2 above); `signal` aborts it. */
  async seal(upload: TusUpload, armoredKey: string, signal?: AbortSignal): Promise<void> {
    const parsed = await parsePublicKey(armoredKey);
    if (!parsed.ok) throw new Error(`project ${upload.projectId} has an unusable public key: ${parsed.error}`);
    const plain = this.#files.path(upload.projectId, upload.id);
    const sealed = this.sealedPath(upload);
    const partial = `${sealed}.partial`;
    await Deno.remove(partial).catch(() => {});
    if (await isEncryptedTo(plain, parsed.value.key)) {
      // Already ciphertext to this key: a second name for the same, already fsync'd, bytes.
      await Deno.link(plain, partial);
    } else {
      await encryptFile(plain, partial, parsed.value.key, signal);
    }
    await Deno.rename(partial, sealed);
    await syncDir(dirname(sealed));
  }

  /** Whether the upload's encrypted copy is complete (the background sealer may not have reached it yet). */
  async isSealed(upload: Pick<TusUpload, "projectId" | "id">): Promise<boolean> {
    return await pathExists(this.sealedPath(upload));
  }

  /** Opens the encrypted copy for the owner's download. */
  async openSealed(upload: TusUpload): Promise<{ size: number; stream: ReadableStream<Uint8Array> }> {
    const file = await Deno.open(this.sealedPath(upload), { read: true });
    return { size: (await file.stat()).size, stream: file.readable };
  }

  /** Removes the plaintext name of a finished, sealed upload (step 3 above). */
  async dropPlaintext(upload: TusUpload): Promise<void> {
    await this.#files.removePlaintext(upload.projectId, upload.id);
  }

  /**
   * After a crash: removes the plaintext of finished uploads whose ciphertext
   * is complete, and returns the finished uploads still to seal.
   */
  async recover(): Promise<TusUpload[]> {
    let removed = 0;
    const toSeal: TusUpload[] = [];
    for await (const { uploadId, plaintext } of this.#files.files()) {
      const waiting = plaintext ? await this.stillToSeal(uploadId) : null;
      if (waiting === null) continue;
      if (await pathExists(this.sealedPath(waiting.upload))) {
        await this.dropPlaintext(waiting.upload);
        removed++;
      } else {
        toSeal.push(waiting.upload);
      }
    }
    if (removed > 0) log.info("removed {count} plaintext uploads already kept encrypted", { count: removed });
    if (toSeal.length > 0) {
      log.info("{count} finished uploads are still to be encrypted at rest", { count: toSeal.length });
    }
    return toSeal;
  }
}

/** Stream-encrypts `source` to `key` into a new file `target`, fsync'd; memory stays flat for any size. */
async function encryptFile(
  source: string,
  target: string,
  key: OpenPgp.PublicKey,
  signal?: AbortSignal,
): Promise<void> {
  const openpgp = await loadOpenpgp();
  const input = await Deno.open(source, { read: true });
  const output = await Deno.open(target, { write: true, createNew: true, mode: 0o640 });
  try {
    const message = await openpgp.createMessage({ binary: input.readable });
    const encrypted = await openpgp.encrypt({ message, encryptionKeys: key, format: "binary" });
    for await (const chunk of encrypted as ReadableStream<Uint8Array>) {
      signal?.throwIfAborted();
      for (let done = 0; done < chunk.length;) done += await output.write(chunk.subarray(done));
    }
    await output.sync();
  } catch (error) {
    await Deno.remove(target).catch(() => {});
    // An aborted seal stops reading mid-file: the input is still open then.
    try {
      input.close();
    } catch {
      // Already closed by its stream reaching the end.
    }
    throw error;
  } finally {
    output.close();
  }
}

/** True when the file starts as an OpenPGP message with a recipient packet for `key` (or one of its subkeys). */
async function isEncryptedTo(path: string, key: OpenPgp.PublicKey): Promise<boolean> {
  const openpgp = await loadOpenpgp();
  const file = await Deno.open(path, { read: true });
  const head = new Uint8Array(HEADER_BYTES);
  let filled = 0;
  try {
    for (let read: number | null = 0; read !== null && filled < head.length; filled += read ?? 0) {
      read = await file.read(head.subarray(filled));
    }
  } finally {
    file.close();
  }
  try {
    // A stream, so the truncated encrypted-data packet after the recipients is not parsed eagerly.
    const message = await openpgp.readMessage({ binaryMessage: ReadableStream.from([head.subarray(0, filled)]) });
    const ours = key.getKeys().map((part) => part.getKeyID());
    return message.getEncryptionKeyIDs().some((id) => ours.some((own) => own.equals(id)));
  } catch {
    return false;
  }
}
