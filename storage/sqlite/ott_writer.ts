/**
 * The main-thread side of the SQLite OTT writer: each group-commit batch is
 * flattened into rows here and committed by a worker thread
 * (ott_writer_worker.ts) on its own connection. Committed on the main thread,
 * a batch's upserts and the fsync of its COMMIT stopped the event loop, which
 * then could neither read posts nor send responses; now the next batch
 * gathers while the previous one commits.
 */
import { type OttBatchRows, ottBatchRows } from "../ott_batch.ts";
import type { OttRecord, StoredOttValue } from "../types.ts";
import { WriterThread } from "./writer_thread.ts";

/** What the OTT writer thread is asked to do. */
export type OttWriterRequest =
  | { kind: "open"; location: string }
  | { kind: "write"; rows: PackedOttRows }
  | { kind: "close" };

/**
 * A batch's rows as the writer thread receives them: the values flattened into one array, {@link VALUE_FIELDS}
 * entries per value in the column order of the `ott_values` upsert, times as epoch milliseconds. Structured
 * cloning one array of primitives costs a quarter of cloning as many objects, and a batch holds hundreds.
 */
export interface PackedOttRows extends Omit<OttBatchRows, "values"> {
  values: (string | number | null)[];
}

/** Entries per value in {@link PackedOttRows.values}. */
export const VALUE_FIELDS = 10;

function packValues(values: readonly StoredOttValue[]): (string | number | null)[] {
  const packed: (string | number | null)[] = [];
  for (const v of values) {
    packed.push(
      v.stationId,
      v.channelId,
      v.time.getTime(),
      v.channelName,
      v.unit,
      v.value,
      v.rawValue,
      v.errorCode,
      v.errorText,
      v.file,
    );
  }
  return packed;
}

/** An OTT writer thread; {@link OttWriterThread.write} is called by one group-commit queue. */
export class OttWriterThread {
  readonly #thread: WriterThread<OttWriterRequest>;

  /** The thread starts with the first write and opens its own connection to the (already migrated) database at `location`. */
  constructor(location: string) {
    this.#thread = new WriterThread(
      new URL("./ott_writer_worker.ts", import.meta.url),
      "SQLite OTT writer thread",
      location,
    );
  }

  /** Commits `records` in one transaction; rejects (committing none) on failure. */
  async write(records: OttRecord[]): Promise<void> {
    const rows = ottBatchRows(records);
    await this.#thread.request({ kind: "write", rows: { ...rows, values: packValues(rows.values) } });
  }

  /** Closes the connection and ends the thread; call after the queue is closed. Safe to call more than once. */
  close(): Promise<void> {
    return this.#thread.close();
  }
}
