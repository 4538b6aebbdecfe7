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
  /**
   * Most batches committing at once (default 1). More than one suits a store
   * whose batches are independent and whose database overlaps commits (a
   * PostgreSQL pool): a batch then starts while the last one waits for its
   * fsync, instead of waiting for it. Batches may then finish out of order.
   */
  maxInFlight?: number;
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
 * one `commitBatch` call each, at most {@link GroupCommitOptions.maxInFlight}
 * at a time.
 */
export class GroupCommitQueue<T> {
  readonly #commitBatch: (items: T[]) => Promise<void>;
  readonly #options: GroupCommitOptions;
  #pending: Pending<T>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #maxInFlight: number;
  #inFlight = 0;
  /** Resolved once nothing is pending or in flight; made by close(). */
  #drained: PromiseWithResolvers<void> | undefined;
  #closed = false;

  /** @param commitBatch commits all items atomically, or throws and commits none of them. */
  constructor(commitBatch: (items: T[]) => Promise<void>, options: GroupCommitOptions) {
    if (!(options.maxBatch >= 1)) throw new RangeError(`maxBatch must be at least 1, got ${options.maxBatch}`);
    if (!(options.maxDelayMs >= 0)) throw new RangeError(`maxDelayMs must be 0 or more, got ${options.maxDelayMs}`);
    this.#maxInFlight = options.maxInFlight ?? 1;
    if (!(this.#maxInFlight >= 1)) throw new RangeError(`maxInFlight must be at least 1, got ${options.maxInFlight}`);
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
  close(): Promise<void> {
    this.#closed = true;
    this.#startNow();
    if (this.#inFlight === 0) return Promise.resolve();
    this.#drained ??= Promise.withResolvers();
    return this.#drained.promise;
  }

  #schedule(): void {
    // A full set of batches in flight picks new items up as soon as one of them is done.
    if (this.#inFlight >= this.#maxInFlight) return;
    if (this.#pending.length >= this.#options.maxBatch) return this.#startNow();
    this.#timer ??= setTimeout(() => this.#startNow(), this.#options.maxDelayMs);
  }

  #startNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#inFlight < this.#maxInFlight && this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#options.maxBatch);
      this.#inFlight++;
      this.#commit(batch).finally(() => {
        this.#inFlight--;
        // Items that arrived while it committed belong to the next batch, started right away.
        this.#startNow();
        if (this.#inFlight === 0) this.#drained?.resolve();
      });
    }
  }

  async #commit(batch: Pending<T>[]): Promise<void> {
    if (await this.#tryCommit(batch)) return;
    // The batch failed as a whole: commit each item alone so only the bad one's caller sees an error.
    for (const single of batch) await this.#tryCommit([single]);
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
