/**
 * WAL checkpoints off the commit path. By default SQLite checkpoints inside
 * the COMMIT that takes the WAL past 1,000 pages: that commit then also copies
 * some 4 MB into the database file and fsyncs it, and every reading waiting on
 * it waits 50–100 ms (measured on the meter writer thread every 4–8 s at 5,000
 * readings/s). Here a thread of its own checkpoints every
 * {@link CHECKPOINT_INTERVAL_MS}, and the writers only checkpoint themselves
 * past {@link WRITER_CHECKPOINT_PAGES} (see connection.ts), should this thread
 * fall behind or fail.
 */
import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../../domain/error_message.ts";
import { WriterThread } from "./writer_thread.ts";

const log = getLogger(["fieldgate", "storage"]);

/** How often the WAL is checkpointed. */
export const CHECKPOINT_INTERVAL_MS = 500;

/** A running checkpointer; {@link Checkpointer.close} stops it. */
export class Checkpointer {
  readonly #thread = new WriterThread<{ kind: "write" }, { walFrames: number; checkpointedFrames: number }>(
    new URL("./checkpointer_worker.ts", import.meta.url),
    "SQLite checkpointer thread",
  );
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #failedBefore = false;

  private constructor() {}

  /** Starts the thread on the (already migrated) database at `location` and checkpoints every interval. */
  static async start(location: string): Promise<Checkpointer> {
    const checkpointer = new Checkpointer();
    await checkpointer.#thread.open(location);
    const timer = setInterval(() => checkpointer.#tick(), CHECKPOINT_INTERVAL_MS);
    // Checkpoints never keep the process alive on their own.
    Deno.unrefTimer(timer);
    checkpointer.#timer = timer;
    return checkpointer;
  }

  /** Runs one checkpoint now; resolves with the WAL's frames and how many of them are in the database file. */
  async checkpoint(): Promise<{ walFrames: number; checkpointedFrames: number }> {
    const { walFrames, checkpointedFrames } = await this.#thread.request({ kind: "write" });
    return { walFrames, checkpointedFrames };
  }

  /** Stops checkpointing and ends the thread (closing the last connection checkpoints anyway). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await this.#thread.close();
  }

  #tick(): void {
    // One at a time: a slow disk must not pile checkpoints up.
    this.#running ??= this.checkpoint().then(
      () => {
        if (this.#failedBefore) log.info("WAL checkpoints work again");
        this.#failedBefore = false;
      },
      (error) => {
        // The writers' own fallback checkpoints keep the WAL bounded meanwhile; say so once, not every interval.
        if (!this.#failedBefore) {
          log.warn("WAL checkpoint failed, writers will checkpoint themselves: {error}", {
            error: errorMessage(error),
          });
        }
        this.#failedBefore = true;
      },
    ).finally(() => (this.#running = undefined));
  }
}
