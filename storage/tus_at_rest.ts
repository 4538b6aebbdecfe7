/**
 * Encryption at rest for projects with an OpenPGP public key: a finished
 * upload is kept only as `<upload id>.gpg`, encrypted to the project's key;
 * the owner decrypts offline (`gpg --decrypt`). Uploads stay plaintext while
 * they are in progress, because tus resumes by appending at an offset and
 * checks chunk checksums, which an OpenPGP stream cannot offer.
 *
 * Order on finish, so a crash anywhere leaves either the resumable plaintext
 * upload or the complete ciphertext, never a half file presented as done:
 * 1. stream-encrypt into `<id>.gpg.partial`, fsync, rename to `<id>.gpg`,
 *    fsync the directory (a crash here: the upload is not finished in the
 *    database; the client re-sends its last chunk and this runs again);
 * 2. record the upload as finished;
 * 3. remove the plaintext (a crash before it: {@link TusAtRest.sweep} at the
 *    next start removes it).
 * A file that already is an OpenPGP message to the project's key (encrypted
 * in the browser) is linked as is instead of being encrypted a second time.
 */
import { dirname } from "node:path";
import { getLogger } from "@logtape/logtape";
import type * as OpenPgp from "openpgp";
import { loadOpenpgp, parsePublicKey } from "../domain/project_key.ts";
import { pathExists, syncDir } from "./blob_fs.ts";
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

  /** Writes `<id>.gpg` durably from the complete plaintext upload (step 1 above). */
  async seal(upload: TusUpload, armoredKey: string): Promise<void> {
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
      await encryptFile(plain, partial, parsed.value.key);
    }
    await Deno.rename(partial, sealed);
    await syncDir(dirname(sealed));
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
   * Removes the plaintext left by a crash between steps 2 and 3: every
   * upload file that has a sealed copy and is finished in the database.
   */
  async sweep(): Promise<number> {
    let removed = 0;
    for await (const { projectId, uploadId, plaintext } of this.#files.files()) {
      // A stat first: only the rare file with a sealed twin costs a database read.
      if (!plaintext || !(await pathExists(this.sealedPath({ projectId, id: uploadId })))) continue;
      const upload = await this.#store.upload(uploadId);
      if (upload?.projectId !== projectId || upload.finishedAt === null) continue;
      await this.dropPlaintext(upload);
      removed++;
    }
    if (removed > 0) log.info("removed {count} plaintext uploads already kept encrypted", { count: removed });
    return removed;
  }
}

/** Stream-encrypts `source` to `key` into a new file `target`, fsync'd; memory stays flat for any size. */
async function encryptFile(source: string, target: string, key: OpenPgp.PublicKey): Promise<void> {
  const openpgp = await loadOpenpgp();
  const input = await Deno.open(source, { read: true });
  const output = await Deno.open(target, { write: true, createNew: true, mode: 0o640 });
  try {
    const message = await openpgp.createMessage({ binary: input.readable });
    const encrypted = await openpgp.encrypt({ message, encryptionKeys: key, format: "binary" });
    for await (const chunk of encrypted as ReadableStream<Uint8Array>) {
      for (let done = 0; done < chunk.length;) done += await output.write(chunk.subarray(done));
    }
    await output.sync();
  } catch (error) {
    await Deno.remove(target).catch(() => {});
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
