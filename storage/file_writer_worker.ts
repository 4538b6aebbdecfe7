/// <reference lib="deno.worker" />
/**
 * The file-writing thread (see file_writer.ts): takes a batch of writes and
 * answers them in one message. Open, write, close, link and remove are
 * synchronous: they are quick and this thread serves nothing else. The fsyncs
 * are asynchronous, so the files of one batch reach the disk together instead
 * of one after another.
 */
import {
  describeError,
  type FileWrite,
  type FileWriteAnswer,
  type FileWriteBatch,
  type FileWriteBatchAnswer,
} from "./file_writer.ts";

self.onmessage = async ({ data: { id, writes } }: MessageEvent<FileWriteBatch>) => {
  const answers = await Promise.all(writes.map((write) =>
    writeAndLink(write).then(
      (linked): FileWriteAnswer => ({ linked }),
      (error): FileWriteAnswer => ({ error: describeError(error) }),
    )
  ));
  self.postMessage({ id, answers } satisfies FileWriteBatchAnswer);
};

async function writeAndLink({ temp, targets, data }: FileWrite): Promise<number> {
  const file = Deno.openSync(temp, { write: true, createNew: true, mode: 0o640 });
  // The temp name goes whatever happens, also when writing it fails (disk full): a running server
  // must not leave partial files behind, nor hold on to their space.
  try {
    try {
      let written = 0;
      while (written < data.length) written += file.writeSync(data.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    return linkToFirstFree(temp, targets);
  } finally {
    try {
      Deno.removeSync(temp);
    } catch {
      // Already gone; nothing to clean up.
    }
  }
}

/** Hard-links `temp` to the first of `targets` that does not exist (link never overwrites); -1 if none. */
function linkToFirstFree(temp: string, targets: string[]): number {
  for (const [index, target] of targets.entries()) {
    try {
      Deno.linkSync(temp, target);
      return index;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  return -1;
}
