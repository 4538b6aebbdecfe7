/** Replacing a small whole file (users, maintenance window) atomically and durably. */
import { basename, dirname, join } from "node:path";
import { syncDir } from "./directory_sync.ts";

/**
 * Replaces `path` with `text` so readers see the old or the new file, never a
 * mix, and the new one survives a crash: temp file in the same directory,
 * fsync, rename, fsync the directory. Keeps an existing file's mode; new files get 0600.
 */
export async function replaceFile(path: string, text: string): Promise<void> {
  const directory = dirname(path);
  await Deno.mkdir(directory, { recursive: true });
  let mode = 0o600;
  try {
    mode = (await Deno.stat(path)).mode! & 0o777;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const temp = join(directory, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode });
    try {
      let pending = new TextEncoder().encode(text);
      while (pending.length > 0) pending = pending.subarray(await file.write(pending));
      await file.sync();
    } finally {
      file.close();
    }
    // The umask may have narrowed the mode given to open; an existing file's mode must survive exactly.
    await Deno.chmod(temp, mode);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  await syncDir(directory);
}
