/**
 * The main-thread side of a SQLite writer thread (meter readings, OTT rows):
 * requests go to a worker that answers each one in order, after its COMMIT
 * returned. Committing there keeps the INSERTs and the fsync of each COMMIT
 * off the thread that serves the sockets.
 */

/** The requests every writer thread understands besides its writes: open its connection, close it. */
export type LifecycleRequest = { kind: "open"; location: string } | { kind: "close" };

/**
 * Batches a group-commit queue may hand one writer thread at once. The thread
 * commits them one after the other, in order (so ids still ascend in arrival
 * order): the next batch waits in its queue while the last one commits,
 * instead of waiting for the answer's way back and the next message.
 */
export const BATCHES_IN_FLIGHT = 2;

/** What a writer thread posts back for each request. */
export type WriterAnswer<T> = ({ ok: true } & T) | { ok: false; error: string };

interface Waiter<T> {
  resolve: (answer: T) => void;
  reject: (error: Error) => void;
}

/** One running worker; `Request` is what it accepts, `Answer` what a successful request returns. */
export class WriterThread<Request, Answer extends object = Record<never, never>> {
  readonly #worker: Worker;
  readonly #name: string;
  /** Requests sent and not yet answered, oldest first: the thread answers in order. */
  readonly #waiting: Waiter<{ ok: true } & Answer>[] = [];
  #failure?: Error;
  #closed?: Promise<void>;

  /** @param name how errors call the thread, e.g. "SQLite meter writer thread". */
  constructor(script: URL, name: string) {
    this.#name = name;
    this.#worker = new Worker(script.href, { type: "module" });
    this.#worker.onmessage = ({ data }: MessageEvent<WriterAnswer<Answer>>) => {
      const waiter = this.#waiting.shift();
      if (data.ok) waiter?.resolve(data);
      else waiter?.reject(new Error(data.error));
    };
    // A crashed thread fails what it holds and everything after; the process and its sockets carry on.
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`${name} failed: ${event.message}`));
    };
    this.#worker.onmessageerror = () => this.#fail(new Error(`${name} sent an unreadable message`));
  }

  /** Opens the thread's connection to the (already migrated) database at `location`; on failure ends the thread. */
  async open(location: string): Promise<void> {
    try {
      await this.request({ kind: "open", location });
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Sends `request` (moving `transfer`) and resolves with the thread's answer, or rejects with its error. */
  request(request: Request | LifecycleRequest, transfer: Transferable[] = []): Promise<{ ok: true } & Answer> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error(`the ${this.#name} is closed`));
    const { promise, resolve, reject } = Promise.withResolvers<{ ok: true } & Answer>();
    this.#waiting.push({ resolve, reject });
    this.#worker.postMessage(request, transfer);
    return promise;
  }

  /** Asks the thread to close its connection, then ends the thread. Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= this.request({ kind: "close" }).then(
      () => this.#worker.terminate(),
      () => this.#worker.terminate(),
    );
    return this.#closed;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}
