/**
 * Group commit: many concurrent writers share one transaction (one fsync),
 * yet each caller still waits for its own item to be durable.
 */

/** How long to gather writes and how many to commit together (from `config.commit`). */
export interface GroupCommitOptions {
  /** Longest wait, in milliseconds, to gather items once the queue is idle; 0 = next macrotask. */
  maxDelayMs: number;
  /** Most items committed in one call. */
  maxBatch: number;
  /** Called after every successful commit with the number of items it held (metrics, tests). */
  onCommit?: (batchSize: number) => void;
  /**
   * True for errors that say nothing about the items (the database is unreachable): the whole batch
   * fails with it at once. Other failed batches are retried item by item to single out a bad item;
   * without a database that would only make every caller wait again, and a batch whose COMMIT did
   * reach the database before the connection dropped would be written twice.
   */
  failsWholeBatch?: (error: unknown) => boolean;
}

/** Thrown by {@link GroupCommitQueue.enqueue} once the queue is closed. */
export class QueueClosedError extends Error {
  override name = "QueueClosedError";
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Collects items from concurrent callers and commits them in batches through
 * one `commitBatch` call each; only one batch is in flight at a time.
 */
export class GroupCommitQueue<T> {
  readonly #commitBatch: (items: T[]) => Promise<void>;
  readonly #options: GroupCommitOptions;
  #pending: Pending<T>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  /** @param commitBatch commits all items atomically, or throws and commits none of them. */
  constructor(commitBatch: (items: T[]) => Promise<void>, options: GroupCommitOptions) {
    if (!(options.maxBatch >= 1)) throw new RangeError(`maxBatch must be at least 1, got ${options.maxBatch}`);
    if (!(options.maxDelayMs >= 0)) throw new RangeError(`maxDelayMs must be 0 or more, got ${options.maxDelayMs}`);
    this.#commitBatch = commitBatch;
    this.#options = options;
  }

  /** Resolves once the batch holding `item` has committed; rejects with this item's own error only. */
  enqueue(item: T): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new QueueClosedError("group commit queue is closed: the store is shutting down"));
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pending.push({ item, resolve, reject });
    this.#schedule();
    return promise;
  }

  /** Commits everything already queued, then refuses new items. Safe to call more than once. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#pending.length > 0) this.#startNow();
    await this.#running;
  }

  #schedule(): void {
    // A running loop picks new items up as soon as its current batch is done.
    if (this.#running) return;
    if (this.#pending.length >= this.#options.maxBatch) return this.#startNow();
    this.#timer ??= setTimeout(() => this.#startNow(), this.#options.maxDelayMs);
  }

  #startNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
      // Items that arrived after the loop's last check belong to the next batch, started right away.
      if (this.#pending.length > 0) this.#startNow();
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#options.maxBatch);
      if (await this.#tryCommit(batch)) continue;
      // The batch failed as a whole: commit each item alone so only the bad one's caller sees an error.
      for (const single of batch) await this.#tryCommit([single]);
    }
  }

  /**
   * Commits `batch` and returns true once every caller in it is settled: all resolved on success;
   * all rejected when it held one item or {@link GroupCommitOptions.failsWholeBatch} says the error
   * is not the items'. Returns false, settling nobody, when the items must be retried one by one.
   */
  async #tryCommit(batch: Pending<T>[]): Promise<boolean> {
    try {
      await this.#commitBatch(batch.map((entry) => entry.item));
    } catch (error) {
      if (batch.length > 1 && this.#options.failsWholeBatch?.(error) !== true) return false;
      for (const entry of batch) entry.reject(error);
      return true;
    }
    for (const entry of batch) entry.resolve();
    try {
      this.#options.onCommit?.(batch.length);
    } catch {
      // An observer's bug must not turn committed writes into failures.
    }
    return true;
  }
}
