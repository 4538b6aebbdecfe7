/**
 * Flushing a large upload to disk while it is written, and keeping it out of
 * the page cache once it is there. An uploaded file is read again only when
 * its owner downloads it, so caching gigabytes of it only pushes out what the
 * server does read (the database), as `dd oflag=nocache` and PostgreSQL's WAL
 * writer avoid too. On virtual machines whose freed memory goes back to the
 * host, it also lets each next piece of the upload reuse the pages the last
 * one left instead of memory the host must hand out again: measured in
 * bench/README.md ("tus: background syncs, the page cache dropped, idle
 * writer threads"), a 1 GiB upload went 251–405 MiB/s against 190–258
 * without the drop.
 *
 * Deno has no `posix_fadvise`, so the drop calls libc through Deno's FFI, on
 * Linux with glibc only; elsewhere (or without FFI permission) it is skipped
 * with one warning, and only the sync remains.
 */
import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../domain/error_message.ts";

const log = getLogger(["fieldgate", "tus"]);

/** <fcntl.h> on Linux (x86-64 and arm64): open read-only, not inherited by child processes. */
const O_RDONLY_CLOEXEC = 0o2000000;
const POSIX_FADV_DONTNEED = 4;

const LIBC_SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // On a thread of Deno's, as it may start writing back what is still dirty.
  posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32", nonblocking: true },
} as const;

type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    if (Deno.build.os !== "linux") throw new Error(`posix_fadvise is Linux's (this is ${Deno.build.os})`);
    libc = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
  } catch (error) {
    libc = null;
    log.warn("large uploads stay in the page cache after they are on disk: {reason}", {
      reason: errorMessage(error),
    });
  }
  return libc;
}

/** A second handle on a file being written: {@link DiskFlusher.syncData} makes what is written so far durable. */
export class DiskFlusher {
  readonly #handle: Deno.FsFile;
  /** libc's descriptor of the same file for `posix_fadvise`; -1 where dropping pages is not available. */
  readonly #fd: number;

  private constructor(handle: Deno.FsFile, fd: number) {
    this.#handle = handle;
    this.#fd = fd;
  }

  /** Opens the file at `path` (which must exist) a second time, read-only. */
  static async open(path: string): Promise<DiskFlusher> {
    const handle = await Deno.open(path, { read: true });
    const fd = loadLibc()?.symbols.open(new TextEncoder().encode(`${path}\0`), O_RDONLY_CLOEXEC) ?? -1;
    return new DiskFlusher(handle, fd);
  }

  /** fdatasyncs the file, then drops its pages that are on disk from the page cache (where available). */
  async syncData(): Promise<void> {
    await this.#handle.syncData();
    if (this.#fd < 0) return;
    // Advice, not a promise: a failure leaves pages cached, nothing less durable.
    await libc!.symbols.posix_fadvise(this.#fd, 0n, 0n, POSIX_FADV_DONTNEED);
  }

  /** Closes both handles. */
  close(): void {
    this.#handle.close();
    if (this.#fd >= 0) libc!.symbols.close(this.#fd);
  }
}
