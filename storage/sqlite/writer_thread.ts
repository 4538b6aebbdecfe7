/**
 * The main-thread side of a SQLite writer thread (meter readings, OTT rows):
 * requests go to a worker that answers each one in order, after its COMMIT
 * returned. Committing there keeps the INSERTs and the fsync of each COMMIT
 * off the thread that serves the sockets.
 *
 * The worker starts with the first request (about 15 ms, once): each thread
 * holds some 10 MiB of memory, which a server that never receives that kind
 * of data (a drop-off-only instance, say) should not pay.
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

/** One worker, started by the first request; `Request` is what it accepts, `Answer` what a successful request returns. */
export class WriterThread<Request, Answer extends object = Record<never, never>> {
  readonly #script: URL;
  readonly #name: string;
  readonly #location: string;
  #worker?: Worker;
  /** Requests sent and not yet answered, oldest first: the thread answers in order. */
  readonly #waiting: Waiter<{ ok: true } & Answer>[] = [];
  #failure?: Error;
  #closed?: Promise<void>;

  /**
   * @param name how errors call the thread, e.g. "SQLite meter writer thread".
   * @param location the (already migrated) database the thread opens its connection to.
   */
  constructor(script: URL, name: string, location: string) {
    this.#script = script;
    this.#name = name;
    this.#location = location;
  }

  /** Sends `request` (moving `transfer`) and resolves with the thread's answer, or rejects with its error. */
  request(request: Request, transfer: Transferable[] = []): Promise<{ ok: true } & Answer> {
    if (this.#closed) return Promise.reject(new Error(`the ${this.#name} is closed`));
    return this.#send(request, transfer);
  }

  /** Asks the thread to close its connection, then ends the thread. Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= this.#worker
      ? this.#send({ kind: "close" }).then(
        () => this.#worker!.terminate(),
        () => this.#worker!.terminate(),
      )
      : Promise.resolve();
    return this.#closed;
  }

  #send(request: Request | LifecycleRequest, transfer: Transferable[] = []): Promise<{ ok: true } & Answer> {
    if (this.#failure) return Promise.reject(this.#failure);
    this.#worker ??= this.#start();
    const { promise, resolve, reject } = Promise.withResolvers<{ ok: true } & Answer>();
    this.#waiting.push({ resolve, reject });
    this.#worker.postMessage(request, transfer);
    return promise;
  }

  #start(): Worker {
    const worker = new Worker(this.#script.href, { type: "module" });
    worker.onmessage = ({ data }: MessageEvent<WriterAnswer<Answer>>) => {
      const waiter = this.#waiting.shift();
      if (data.ok) waiter?.resolve(data);
      else waiter?.reject(new Error(data.error));
    };
    // A crashed thread fails what it holds and everything after; the process and its sockets carry on.
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`${this.#name} failed: ${event.message}`));
    };
    worker.onmessageerror = () => this.#fail(new Error(`${this.#name} sent an unreadable message`));
    // Queued ahead of the request that started the thread; if it fails, so does everything after it.
    const opened = Promise.withResolvers<unknown>();
    this.#waiting.push(opened);
    worker.postMessage({ kind: "open", location: this.#location } satisfies LifecycleRequest);
    opened.promise.catch((error: Error) =>
      this.#fail(new Error(`${this.#name} cannot open ${this.#location}: ${error.message}`))
    );
    return worker;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}
