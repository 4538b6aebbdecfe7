/**
 * The SQLite checkpointer thread (started by checkpointer.ts): each request
 * runs a PASSIVE checkpoint on a connection of its own, copying committed WAL
 * frames into the database file while writers go on committing.
 */
import { serveWriterRequests } from "./writer_worker.ts";

serveWriterRequests("checkpointer", (db) => {
  const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  return () => {
    const { log, checkpointed } = checkpoint.get() as { log: number; checkpointed: number };
    return { answer: { walFrames: log, checkpointedFrames: checkpointed } };
  };
});
