/**
 * The main-thread side of the file-writing thread behind `FileBlobStore`
 * (storage/blob_fs.ts). A durable write is six filesystem calls (open, write,
 * fsync, close, link, remove). As async ops on the main thread each one is a
 * wake-up of another thread and back, 20–40 µs of the main thread each on
 * this kind of VM; at 1,200 OTT posts/s the five of them took about 150 µs of
 * the main thread per post. Here the main thread sends the writes that queued
 * up while the thread was busy in one message and gets one answer back, the
 * way a group commit batches transactions.
 */

import { errorMessage } from "../domain/error_message.ts";

/** A temp file to write, fsync and hard-link to the first free name of `targets`. */
export interface FileWrite {
  temp: string;
  targets: string[];
  data: Uint8Array;
}

/** An error as it crosses threads: Deno's error classes are restored by name. */
export interface ThreadError {
  name: string;
  message: string;
}

/** Per write of a batch: the index into `targets` that was linked (-1 when all were taken), or why it failed. */
export type FileWriteAnswer = { linked: number } | { error: ThreadError };

/** What goes to the thread: a numbered batch of writes. */
export interface FileWriteBatch {
  id: number;
  writes: FileWrite[];
}

/** What comes back: the batch's number and an answer per write, in order. */
export interface FileWriteBatchAnswer {
  id: number;
  answers: FileWriteAnswer[];
}

/**
 * Batches the thread works on at once: while one waits for its fsyncs, the
 * next is written; more measured no faster.
 */
const BATCHES_IN_FLIGHT = 2;

interface QueuedWrite extends FileWrite {
  resolve: (linked: number) => void;
  reject: (error: Error) => void;
}

/** One file-writing worker with up to {@link BATCHES_IN_FLIGHT} batches; writes that arrive meanwhile form the next. */
export class FileWriterThread {
  readonly #worker = new Worker(new URL("./file_writer_worker.ts", import.meta.url).href, { type: "module" });
  #queued: QueuedWrite[] = [];
  readonly #inFlight = new Map<number, QueuedWrite[]>();
  #nextBatchId = 0;
  #failure?: Error;

  constructor() {
    this.#worker.onmessage = ({ data: { id, answers } }: MessageEvent<FileWriteBatchAnswer>) => {
      const batch = this.#inFlight.get(id) ?? [];
      this.#inFlight.delete(id);
      batch.forEach((write, index) => {
        const answer = answers[index];
        if ("linked" in answer) write.resolve(answer.linked);
        else write.reject(reviveError(answer.error));
      });
      this.#sendQueued();
    };
    // A crashed thread fails what it holds and everything after; the process and its sockets carry on.
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`the file-writing thread failed: ${event.message}`));
    };
    this.#worker.onmessageerror = () => this.#fail(new Error("the file-writing thread sent an unreadable message"));
  }

  /**
   * Writes `data` to the new file `temp`, fsyncs it, hard-links it to the first
   * of `targets` that does not exist and removes `temp`. Resolves with that
   * target's index, or -1 when every target existed (nothing is left behind).
   */
  write(temp: string, targets: string[], data: Uint8Array): Promise<number> {
    if (this.#failure) return Promise.reject(this.#failure);
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    this.#queued.push({ temp, targets, data, resolve, reject });
    if (this.#inFlight.size < BATCHES_IN_FLIGHT) this.#sendQueued();
    return promise;
  }

  /** Ends the thread; writes not yet answered are rejected. */
  close(): void {
    this.#fail(new Error("the file-writing thread is closed"));
    this.#worker.terminate();
  }

  #sendQueued(): void {
    if (this.#queued.length === 0) return;
    const batch = this.#queued;
    this.#queued = [];
    const id = this.#nextBatchId++;
    this.#inFlight.set(id, batch);
    const writes = batch.map(({ temp, targets, data }): FileWrite => ({ temp, targets, data }));
    this.#worker.postMessage({ id, writes } satisfies FileWriteBatch);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const write of [...[...this.#inFlight.values()].flat(), ...this.#queued]) write.reject(error);
    this.#inFlight.clear();
    this.#queued = [];
  }
}

/** Describes `error` for the other side of a message. */
export function describeError(error: unknown): ThreadError {
  return { name: error instanceof Error ? error.name : "Error", message: errorMessage(error) };
}

/** The error {@link describeError} described, as an instance of the same `Deno.errors` class where there is one. */
function reviveError({ name, message }: ThreadError): Error {
  const DenoError = (Deno.errors as Record<string, new (message: string) => Error>)[name];
  if (DenoError) return new DenoError(message);
  const error = new Error(message);
  error.name = name;
  return error;
}
