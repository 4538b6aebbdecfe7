/**
 * The worker side of a SQLite writer thread (writer_thread.ts is the main
 * thread's): "open" opens a connection with `synchronous = FULL` and prepares
 * the script's writer on it, each "write" goes to that writer, "close" closes
 * the connection. One answer is posted per request, in order, and a write's
 * answer only after its COMMIT returned: durable before the main thread
 * acknowledges anything.
 */
import type { DatabaseSync } from "node:sqlite";
import { DURABLE_COMMITS, openConnection } from "./connection.ts";
import type { LifecycleRequest, WriterAnswer } from "./writer_thread.ts";
import { errorMessage } from "../../domain/error_message.ts";

/** What a writer returns for one committed write: the answer's fields and the buffers to move with it. */
export interface WriteResult<Answer extends object> {
  answer: Answer;
  transfer?: Transferable[];
}

interface WorkerScope<Write> {
  onmessage: ((event: MessageEvent<Write | LifecycleRequest>) => void) | null;
  postMessage(message: WriterAnswer<object>, transfer?: Transferable[]): void;
}

/**
 * Serves this worker's requests; `prepare` builds, once per connection, the
 * function that commits one write request (throwing commits nothing).
 */
export function serveWriterRequests<Write extends { kind: "write" }, Answer extends object>(
  name: string,
  prepare: (db: DatabaseSync) => (request: Write) => WriteResult<Answer>,
): void {
  const scope = globalThis as unknown as WorkerScope<Write>;
  let db: DatabaseSync | undefined;
  let write: ((request: Write) => WriteResult<Answer>) | undefined;

  const handle = (request: Write | LifecycleRequest): WriteResult<object> => {
    switch (request.kind) {
      case "open":
        db = openConnection(request.location);
        db.exec(DURABLE_COMMITS);
        write = prepare(db);
        return { answer: {} };
      case "close":
        db?.close();
        db = write = undefined;
        return { answer: {} };
      default:
        if (!write) throw new Error(`the ${name} is not open`);
        return write(request);
    }
  };

  scope.onmessage = ({ data: request }) => {
    let result: WriteResult<object>;
    try {
      result = handle(request);
    } catch (error) {
      scope.postMessage({ ok: false, error: errorMessage(error) });
      return;
    }
    scope.postMessage({ ok: true, ...result.answer }, result.transfer ?? []);
  };
}
