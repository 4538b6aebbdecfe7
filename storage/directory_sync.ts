/**
 * Group directory fsync: many writers link files into the same directory at
 * once, and one fsync of that directory makes every link done before it
 * started durable. So a writer that links and then asks here waits for the
 * next fsync that starts after its request, shared with everyone else who
 * asked meanwhile, instead of opening and fsyncing the directory alone.
 */

/** fsyncs one directory; rejects when the directory cannot be opened or synced. */
export type SyncDirectory = (directory: string) => Promise<void>;

/** Shares directory fsyncs between concurrent writers, one fsync in flight per directory. */
export class DirectorySyncer {
  readonly #syncDirectory: SyncDirectory;
  /** Writers waiting for the next fsync, per directory; a directory is present while its loop runs. */
  readonly #waiting = new Map<string, PromiseWithResolvers<void>[]>();

  /** @param syncDirectory the fsync itself (tests pass one that fails). */
  constructor(syncDirectory: SyncDirectory = syncDir) {
    this.#syncDirectory = syncDirectory;
  }

  /**
   * Resolves once an fsync of `directory` that started after this call has
   * succeeded; rejects with that fsync's error, as does every writer it covered.
   */
  sync(directory: string): Promise<void> {
    const waiter = Promise.withResolvers<void>();
    const waiting = this.#waiting.get(directory);
    if (waiting) {
      waiting.push(waiter);
    } else {
      this.#waiting.set(directory, [waiter]);
      this.#syncUntilIdle(directory);
    }
    return waiter.promise;
  }

  async #syncUntilIdle(directory: string): Promise<void> {
    const waiting = this.#waiting.get(directory)!;
    while (waiting.length > 0) {
      // Only those who asked before this fsync starts are covered by it; later ones wait for the next.
      const covered = waiting.splice(0);
      try {
        await this.#syncDirectory(directory);
      } catch (error) {
        for (const waiter of covered) waiter.reject(error);
        continue;
      }
      for (const waiter of covered) waiter.resolve();
    }
    this.#waiting.delete(directory);
  }
}

/** fsync a directory so renames and links inside it are durable. */
export async function syncDir(directory: string): Promise<void> {
  const handle = await Deno.open(directory, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}
