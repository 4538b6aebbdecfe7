/**
 * The main-thread side of the SQLite meter writer. Meter batches are committed
 * by a worker thread (meter_writer_worker.ts) on its own connection: under
 * load the INSERTs and the WAL write and fsync of each COMMIT took over a third
 * of the event loop, which then could not read sockets or send replies; now
 * the next batch gathers while the previous one commits. Both connections
 * take SQLite's one write lock in turn (`BEGIN IMMEDIATE`, busy timeout).
 */
import type { MeterAppend } from "../meter_batch.ts";
import { columnBuffers, settleFromOutcomes, toColumns, type WriterRequest } from "./meter_columns.ts";
import { WriterThread } from "./writer_thread.ts";

/** A writer thread; {@link MeterWriterThread.write} is called by one group-commit queue. */
export class MeterWriterThread {
  readonly #thread: WriterThread<WriterRequest, { outcomes?: Float64Array }>;

  /** The thread starts with the first write and opens its own connection to the (already migrated) database at `location`. */
  constructor(location: string) {
    this.#thread = new WriterThread(
      new URL("./meter_writer_worker.ts", import.meta.url),
      "SQLite meter writer thread",
      location,
    );
  }

  /** Commits `items` in one transaction and sets each item's result; rejects (committing none) on failure. */
  async write(items: MeterAppend[]): Promise<void> {
    const columns = toColumns(items);
    const { outcomes } = await this.#thread.request({ kind: "write", columns }, columnBuffers(columns));
    settleFromOutcomes(items, outcomes!);
  }

  /** Closes the connection and ends the thread; call after the queue is closed. Safe to call more than once. */
  close(): Promise<void> {
    return this.#thread.close();
  }
}
