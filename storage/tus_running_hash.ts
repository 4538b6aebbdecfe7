/**
 * The SHA-256 of an upload's bytes so far, carried from one PATCH to the next
 * in this process, so finishing an upload needs no second read of its file.
 * Only a hash that covers exactly the recorded offset is handed out; anything
 * else (a restart, another instance took a PATCH, a refused chunk) falls back
 * to hashing the file, which is always correct.
 */
import { createHash, type Hash } from "node:crypto";

/** Uploads whose running hash is kept; past this the oldest is dropped (it is only an optimisation). */
const MAX_KEPT = 1024;

/** Running hashes of in-progress uploads, keyed by upload id. */
export class RunningHashes {
  readonly #kept = new Map<string, { offset: number; hash: Hash }>();

  /**
   * The hash of the first `offset` bytes of the upload, removed from the
   * cache (the caller puts it back with {@link keep} once its new offset is
   * recorded); a fresh hash at offset 0; null when no hash covers `offset`.
   */
  take(uploadId: string, offset: number): Hash | null {
    const kept = this.#kept.get(uploadId);
    this.#kept.delete(uploadId);
    if (kept?.offset === offset) return kept.hash;
    return offset === 0 ? createHash("sha256") : null;
  }

  /** Keeps `hash`, which covers the upload's first `offset` bytes, now recorded. */
  keep(uploadId: string, offset: number, hash: Hash): void {
    this.#kept.delete(uploadId);
    this.#kept.set(uploadId, { offset, hash });
    if (this.#kept.size > MAX_KEPT) this.#kept.delete(this.#kept.keys().next().value!);
  }
}
