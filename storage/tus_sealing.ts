/**
 * Encryption at rest after the acknowledgement. A finished upload into a
 * project with a public key is recorded finished and acknowledged as soon as
 * its plaintext is durable, like any upload; it is sealed here afterwards, so
 * the last PATCH of a 10 GB file does not wait minutes for OpenPGP (about
 * 90 MiB/s here) and no proxy times it out. Uploads are sealed one at a time
 * (sealing is CPU-bound), each under its upload lock, so a DELETE, the
 * cleanup or another instance's sealer never meets it half done.
 *
 * A stop aborts the running seal (its `.gpg.partial` is removed); the next
 * start finds the finished uploads still in plaintext ({@link TusAtRest.recover})
 * and seals them from the beginning.
 */
import { getLogger } from "@logtape/logtape";
import type { TusAtRest } from "./tus_at_rest.ts";
import type { TusUpload } from "./types.ts";
import type { UploadLocks } from "./upload_locks.ts";

const log = getLogger(["fieldgate", "tus"]);

/** How long a seal waits before trying again when the upload's lock is held (the finishing PATCH still holds it). */
const LOCK_RETRY_MS = 100;

interface SealJob {
  upload: TusUpload;
  /** Called once the ciphertext is the only copy, with its path. */
  onSealed: (sealedPath: string) => void;
}

/** One background queue of uploads to seal. */
export class BackgroundSealer {
  readonly #atRest: TusAtRest;
  readonly #locks: UploadLocks;
  readonly #queue: SealJob[] = [];
  readonly #stop = new AbortController();
  #running: Promise<void> | null = null;

  constructor(atRest: TusAtRest, locks: UploadLocks) {
    this.#atRest = atRest;
    this.#locks = locks;
  }

  /** Queues a finished upload; `onSealed` runs after its plaintext is gone. */
  add(upload: TusUpload, onSealed: (sealedPath: string) => void): void {
    if (this.#stop.signal.aborted) return;
    this.#queue.push({ upload, onSealed });
    this.#running ??= this.#drain().finally(() => this.#running = null);
  }

  /** Aborts the running seal and drops the queue (a restart seals them again); waits until nothing runs. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stop.signal.aborted) {
      const job = this.#queue[0];
      const outcome = await this.#locks.with(job.upload.id, () => this.#seal(job), () => "busy" as const)
        .catch((error) => {
          if (this.#stop.signal.aborted) return "stopped" as const;
          // Left in plaintext and logged: the next start tries again (TusAtRest.recover).
          log.error("could not encrypt upload {id} at rest: {error}", { id: job.upload.id, error: String(error) });
          return "failed" as const;
        });
      if (outcome === "busy") {
        await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
        continue;
      }
      this.#queue.shift();
    }
  }

  async #seal(job: SealJob): Promise<"sealed" | "gone"> {
    const upload = await this.#atRest.stillToSeal(job.upload.id);
    if (upload === null) return "gone";
    const started = performance.now();
    await this.#atRest.seal(upload.upload, upload.publicKey, this.#stop.signal);
    await this.#atRest.dropPlaintext(upload.upload);
    log.info("upload {id} encrypted at rest in {seconds} s", {
      id: upload.upload.id,
      seconds: ((performance.now() - started) / 1000).toFixed(1),
    });
    job.onSealed(this.#atRest.sealedPath(upload.upload));
    return "sealed";
  }
}
