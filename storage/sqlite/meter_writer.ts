/**
 * The main-thread side of the SQLite meter writer. Meter batches are committed
 * by a worker thread (meter_writer_worker.ts) on its own connection: under
 * load the INSERTs and the WAL write and fsync of each COMMIT took over a third
 * of the event loop, which then could not read sockets or send replies; now
 * the next batch gathers while the previous one commits. Both connections
 * take SQLite's one write lock in turn (`BEGIN IMMEDIATE`, busy timeout).
 */
import type { MeterAppend } from "../meter_batch.ts";
import {
  columnBuffers,
  settleFromOutcomes,
  toColumns,
  type WriterRequest,
  type WriterResponse,
} from "./meter_columns.ts";

interface Waiter {
  resolve: (outcomes: Float64Array | undefined) => void;
  reject: (error: Error) => void;
}

/** A running writer thread; {@link MeterWriterThread.write} is called by one group-commit queue. */
export class MeterWriterThread {
  readonly #worker: Worker;
  /** Requests sent and not yet answered, oldest first: the thread answers in order. */
  readonly #waiting: Waiter[] = [];
  #failure?: Error;
  #closed?: Promise<void>;

  private constructor() {
    this.#worker = new Worker(new URL("./meter_writer_worker.ts", import.meta.url).href, { type: "module" });
    this.#worker.onmessage = ({ data }: MessageEvent<WriterResponse>) => {
      const waiter = this.#waiting.shift();
      if (data.ok) waiter?.resolve(data.outcomes);
      else waiter?.reject(new Error(data.error));
    };
    // A crashed thread fails what it holds and everything after; the process and its sockets carry on.
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`SQLite meter writer thread failed: ${event.message}`));
    };
    this.#worker.onmessageerror = () => this.#fail(new Error("SQLite meter writer thread sent an unreadable message"));
  }

  /** Starts the thread and opens its connection to the (already migrated) database at `location`. */
  static async start(location: string): Promise<MeterWriterThread> {
    const thread = new MeterWriterThread();
    try {
      await thread.#request({ kind: "open", location });
    } catch (error) {
      await thread.close();
      throw error;
    }
    return thread;
  }

  /** Commits `items` in one transaction and sets each item's result; rejects (committing none) on failure. */
  async write(items: MeterAppend[]): Promise<void> {
    const columns = toColumns(items);
    const outcomes = await this.#request({ kind: "write", columns }, columnBuffers(columns));
    settleFromOutcomes(items, outcomes!);
  }

  /** Closes the connection and ends the thread; call after the queue is closed. Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= this.#request({ kind: "close" }).then(
      () => this.#worker.terminate(),
      () => this.#worker.terminate(),
    );
    return this.#closed;
  }

  #request(request: WriterRequest, transfer: Transferable[] = []): Promise<Float64Array | undefined> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error("the SQLite meter writer thread is closed"));
    const { promise, resolve, reject } = Promise.withResolvers<Float64Array | undefined>();
    this.#waiting.push({ resolve, reject });
    this.#worker.postMessage(request, transfer);
    return promise;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}
