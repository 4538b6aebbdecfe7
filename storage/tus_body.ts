/**
 * Moving a PATCH body into an upload's file: reading the body into one
 * reused buffer, gathering it into large writes that overlap with reading,
 * and noticing a body that stalls. Used by storage/tus_files.ts.
 */
import type { Hash } from "node:crypto";

/**
 * Bytes one body read may fill. Deno hands request bodies over in pieces of
 * up to 16 KiB (HTTP/1.1 and HTTP/2), so this only bounds the reused buffer.
 */
const READ_BYTES = 64 * 1024;

/**
 * Reads a request body into one buffer of its own, reused for every read
 * (a BYOB reader), rather than receiving a fresh array per 16 KiB piece: a
 * 1 GiB body is some 65,000 pieces, and that garbage (memory outside V8's
 * heap, freed only when the young generation is collected) grew a server's
 * RSS by 90–190 MiB during one upload. Streams that are not byte streams
 * (a body a test or middleware built itself) are read piece by piece.
 */
export class BodyReader {
  readonly #reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;
  #buffer: ArrayBufferLike = new ArrayBuffer(READ_BYTES);

  constructor(body: ReadableStream<Uint8Array>) {
    try {
      this.#reader = body.getReader({ mode: "byob" });
    } catch {
      // Not a byte stream: getReader({ mode: "byob" }) throws before taking the lock.
      this.#reader = body.getReader();
    }
  }

  /** The next bytes of the body, valid until the next read; null at its end. */
  async read(): Promise<Uint8Array | null> {
    if (this.#reader instanceof ReadableStreamDefaultReader) {
      const next = await this.#reader.read();
      return next.done ? null : next.value;
    }
    // The read takes the buffer over (detaches it) and hands it back with the bytes in it.
    const next = await this.#reader.read(new Uint8Array(this.#buffer));
    if (next.value) this.#buffer = next.value.buffer;
    return next.done ? null : next.value;
  }

  /** Stops reading (the client went away or stalled); never throws. */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/** Bytes gathered before one write: each write is a syscall on another thread, and each hash update a native call. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

/**
 * Bytes written between two background fdatasyncs. Without them a 1 GiB body
 * sat in the page cache until the final fsync, which then took 340–380 ms
 * before the client got its answer (and held up every other fsync on the disk,
 * such as the database's commits, meanwhile); with them the final fsync took
 * about 1 ms.
 */
export const BACKGROUND_SYNC_BYTES = 64 * 1024 * 1024;

/** Where a {@link WriteBuffer} flushes written bytes to disk while it goes on writing, and how often. */
export interface BackgroundSync {
  /**
   * A second handle on the same file (storage/disk_flusher.ts): Deno runs one
   * operation at a time per handle, so a sync on the writing handle would hold
   * up the next write.
   */
  handle: Pick<Deno.FsFile, "syncData">;
  everyBytes: number;
}

/**
 * Gathers body pieces into 1 MiB writes, and feeds `hashes` the same large
 * pieces. Two buffers take turns: one is written (on Deno's blocking thread
 * pool) while the next one fills, so reading the body never waits for the
 * disk unless the disk is the slower of the two. With `backgroundSync`, what
 * is written goes to disk every so many bytes, one fdatasync at a time, while
 * writing goes on. `flush()` writes the rest and waits for every write and
 * sync; the caller's own fsync then makes it all durable.
 */
export class WriteBuffer {
  readonly #file: Deno.FsFile;
  readonly #hashes: Hash[];
  readonly #backgroundSync: BackgroundSync | null;
  #filling = new Uint8Array(WRITE_BUFFER_BYTES);
  #spare = new Uint8Array(WRITE_BUFFER_BYTES);
  #filled = 0;
  #writing: Promise<void> = Promise.resolve();
  #unsyncedBytes = 0;
  #syncing: Promise<void> | null = null;
  /** Kept to fail `flush()`: after a failed fsync Linux may report the next one as a success, data lost or not. */
  #syncError: unknown = null;

  constructor(file: Deno.FsFile, hashes: Hash[], backgroundSync: BackgroundSync | null = null) {
    this.#file = file;
    this.#hashes = hashes;
    this.#backgroundSync = backgroundSync;
  }

  /** Copies `bytes` in (the caller may reuse them at once); a write error of an earlier buffer surfaces here. */
  async add(bytes: Uint8Array): Promise<void> {
    for (let taken = 0; taken < bytes.length;) {
      const piece = bytes.subarray(taken, taken + this.#filling.length - this.#filled);
      this.#filling.set(piece, this.#filled);
      this.#filled += piece.length;
      taken += piece.length;
      if (this.#filled === this.#filling.length) await this.#startWrite();
    }
  }

  /** Writes what is gathered and waits until every write is done. */
  async flush(): Promise<void> {
    await this.#startWrite();
    await this.#writing;
    await this.#syncing;
    if (this.#syncError !== null) throw this.#syncError;
  }

  /** Waits for the previous write (whose buffer becomes the next to fill), then starts writing this one. */
  async #startWrite(): Promise<void> {
    await this.#writing;
    const bytes = this.#filling.subarray(0, this.#filled);
    this.#syncIfDue();
    this.#writing = writeAll(this.#file, bytes);
    this.#unsyncedBytes += bytes.length;
    // Handled here so a failing write (disk full) is not an unhandled rejection while the next buffer fills;
    // awaiting `#writing` later still throws its error.
    this.#writing.catch(() => {});
    // Hashed while the write runs on another thread (both only read the bytes).
    for (const hash of this.#hashes) hash.update(bytes);
    [this.#filling, this.#spare] = [this.#spare, this.#filling];
    this.#filled = 0;
  }

  /** Starts an fdatasync of what is written so far once enough is, unless one still runs. */
  #syncIfDue(): void {
    const sync = this.#backgroundSync;
    if (!sync || this.#syncing !== null || this.#unsyncedBytes < sync.everyBytes) return;
    this.#unsyncedBytes = 0;
    this.#syncing = sync.handle.syncData()
      .catch((error) => this.#syncError ??= error)
      .finally(() => this.#syncing = null);
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}

/**
 * Watches the reads of one body and rejects the read in progress once it has
 * waited `timeoutMs`: a client that stalls (or whose abort never reaches us,
 * as seen with HTTP/2) must not hold the upload's lock for ever. One timer
 * per body, re-armed only when it fires, rather than one per read: a 1 GiB
 * body arrives in some 65,000 pieces. (Racing each read against one
 * long-lived "stalled" promise would leak: every race leaves a reaction on
 * it that keeps that read's bytes alive.)
 */
export class IdleWatchdog {
  readonly #timeoutMs: number;
  /** Rejects the read in progress; null between reads. */
  #rejectRead: ((error: Error) => void) | null = null;
  #waitingSince = 0;
  #timer: ReturnType<typeof setTimeout>;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#timer = setTimeout(() => this.#check(), timeoutMs);
  }

  /** What `read` resolves to, or a rejection once it has waited for the timeout. */
  watch<T>(read: Promise<T>): Promise<T> {
    // Silence counts only while we wait: time spent writing the previous bytes is ours, not the client's.
    this.#waitingSince = performance.now();
    return new Promise<T>((resolve, reject) => {
      this.#rejectRead = reject;
      read.then(resolve, reject);
    }).finally(() => this.#rejectRead = null);
  }

  /** Ends the watch once the body is done with. */
  stop(): void {
    clearTimeout(this.#timer);
  }

  #check(): void {
    const silentMs = this.#rejectRead === null ? 0 : performance.now() - this.#waitingSince;
    if (silentMs >= this.#timeoutMs) return this.#rejectRead!(new Error(`no body bytes for ${this.#timeoutMs} ms`));
    this.#timer = setTimeout(() => this.#check(), this.#timeoutMs - silentMs);
  }
}
