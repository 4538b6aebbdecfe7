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
 * Gathers body pieces into 1 MiB writes, and feeds `hashes` the same large
 * pieces. Two buffers take turns: one is written (on Deno's blocking thread
 * pool) while the next one fills, so reading the body never waits for the
 * disk unless the disk is the slower of the two. `flush()` writes the rest
 * and waits for every write.
 */
export class WriteBuffer {
  readonly #file: Deno.FsFile;
  readonly #hashes: Hash[];
  #filling = new Uint8Array(WRITE_BUFFER_BYTES);
  #spare = new Uint8Array(WRITE_BUFFER_BYTES);
  #filled = 0;
  #writing: Promise<void> = Promise.resolve();

  constructor(file: Deno.FsFile, hashes: Hash[]) {
    this.#file = file;
    this.#hashes = hashes;
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
  }

  /** Waits for the previous write (whose buffer becomes the next to fill), then starts writing this one. */
  async #startWrite(): Promise<void> {
    await this.#writing;
    const bytes = this.#filling.subarray(0, this.#filled);
    this.#writing = writeAll(this.#file, bytes);
    // Handled here so a failing write (disk full) is not an unhandled rejection while the next buffer fills;
    // awaiting `#writing` later still throws its error.
    this.#writing.catch(() => {});
    // Hashed while the write runs on another thread (both only read the bytes).
    for (const hash of this.#hashes) hash.update(bytes);
    [this.#filling, this.#spare] = [this.#spare, this.#filling];
    this.#filled = 0;
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
