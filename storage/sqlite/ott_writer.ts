/**
 * The main-thread side of the SQLite OTT writer: each group-commit batch is
 * flattened into rows here and committed by a worker thread
 * (ott_writer_worker.ts) on its own connection. Committed on the main thread,
 * a batch's upserts and the fsync of its COMMIT stopped the event loop, which
 * then could neither read posts nor send responses; now the next batch
 * gathers while the previous one commits.
 */
import { type OttBatchRows, ottBatchRows } from "../ott_batch.ts";
import type { OttRecord } from "../types.ts";
import { WriterThread } from "./writer_thread.ts";

/** What the OTT writer thread is asked to do. */
export type OttWriterRequest =
  | { kind: "open"; location: string }
  | { kind: "write"; rows: OttBatchRows }
  | { kind: "close" };

/** A running OTT writer thread; {@link OttWriterThread.write} is called by one group-commit queue. */
export class OttWriterThread {
  readonly #thread = new WriterThread<OttWriterRequest>(
    new URL("./ott_writer_worker.ts", import.meta.url),
    "SQLite OTT writer thread",
  );

  private constructor() {}

  /** Starts the thread and opens its connection to the (already migrated) database at `location`. */
  static async start(location: string): Promise<OttWriterThread> {
    const writer = new OttWriterThread();
    await writer.#thread.open(location);
    return writer;
  }

  /** Commits `records` in one transaction; rejects (committing none) on failure. */
  async write(records: OttRecord[]): Promise<void> {
    await this.#thread.request({ kind: "write", rows: ottBatchRows(records) });
  }

  /** Closes the connection and ends the thread; call after the queue is closed. Safe to call more than once. */
  close(): Promise<void> {
    return this.#thread.close();
  }
}
