/**
 * Filesystem blob store with atomic, durable, never-overwriting writes.
 *
 * A write goes to a hidden temp file in the store's `.incoming` directory, is
 * fsync'd, then hard-linked to its final name (link fails instead of
 * overwriting, unlike rename), the temp name is removed and the final
 * directory fsync'd; concurrent writes into one directory share that fsync
 * (see directory_sync.ts). A reader or a sync tool therefore sees either
 * nothing or the whole file, and a crash leaves at most a temp file, which
 * {@link FileBlobStore.sweepTempFiles} removes. The file calls run on a
 * thread of their own (file_writer.ts), the directory fsync here.
 *
 * Why temp files are not made in the final directory: on ext4 without a
 * journal, fsyncing a directory holds the directory's lock until its blocks
 * are written, and the thread's synchronous create and remove would wait for
 * the fsync that is nearly always in flight under load. Only the link has to
 * wait now; `.incoming` is never fsync'd, as nothing in it must survive a crash.
 */
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { DirectorySyncer, syncDir } from "./directory_sync.ts";
import { FileWriterThread } from "./file_writer.ts";

/** Where temp files are written, below the root; hidden, like the temp files themselves. */
const INCOMING_DIR = ".incoming";
/** Names a write tries before giving up (two posts in one microsecond need the second). */
const MAX_NAME_ATTEMPTS = 1000;
/**
 * Names offered to the file-writing thread per write; more only when all of them are taken. One:
 * a name is nearly always free, and building and resolving each name cost the main thread a few µs.
 */
const NAMES_PER_WRITE = 1;

/** Thrown when a relative path would leave the store's root. */
export class UnsafePathError extends Error {
  override name = "UnsafePathError";
}

/** Atomic, durable file writes below one root directory. */
export class FileBlobStore {
  /** Absolute root directory of the store. */
  readonly root: string;
  readonly #tempSuffix: string;
  readonly #incoming: string;
  readonly #knownDirs = new Set<string>();
  readonly #directories: DirectorySyncer;
  /** Started by the first write: stores that only resolve paths or sweep need no thread. */
  #writer?: FileWriterThread;

  /**
   * @param tempSuffix suffix of in-progress files, so sync tools can skip them (the original used `.tmp`).
   * @param directories shares the directory fsyncs that make links durable.
   */
  constructor(root: string, tempSuffix = ".tmp", directories = new DirectorySyncer()) {
    this.root = resolve(root);
    this.#tempSuffix = tempSuffix;
    this.#incoming = join(this.root, INCOMING_DIR);
    this.#directories = directories;
  }

  /** Absolute path of a relative name, refusing anything that escapes the root. */
  resolve(relativePath: string): string {
    if (relativePath === "" || isAbsolute(relativePath) || relativePath.includes("\0")) {
      throw new UnsafePathError(`unsafe path ${JSON.stringify(relativePath)}`);
    }
    const absolute = resolve(this.root, normalize(relativePath));
    if (!absolute.startsWith(this.root + sep)) throw new UnsafePathError(`path escapes store: ${relativePath}`);
    return absolute;
  }

  /**
   * Writes `data` durably under a name chosen by `nameFor(attempt)`; when that
   * name exists, asks again with attempt + 1, so nothing is ever overwritten.
   * Resolves with the relative path written, once file and directory are fsync'd.
   */
  async writeNew(nameFor: (attempt: number) => string, data: Uint8Array): Promise<string> {
    const firstName = nameFor(0);
    const directory = dirname(this.resolve(firstName));
    await this.#ensureDir(directory);
    await this.#ensureDir(this.#incoming);
    this.#writer ??= new FileWriterThread();
    for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt += NAMES_PER_WRITE) {
      const targets = Array.from({ length: NAMES_PER_WRITE }, (_, offset) => {
        const name = attempt + offset === 0 ? firstName : nameFor(attempt + offset);
        const target = this.resolve(name);
        if (dirname(target) !== directory) throw new UnsafePathError(`retry name left the directory: ${name}`);
        return target;
      });
      const temp = join(this.#incoming, `.${crypto.randomUUID()}${this.#tempSuffix}`);
      const linked = await this.#writer.write(temp, targets, data);
      if (linked < 0) continue;
      await this.#directories.sync(directory);
      return relative(this.root, targets[linked]);
    }
    throw new Deno.errors.AlreadyExists(`no free name for ${firstName} after ${MAX_NAME_ATTEMPTS} attempts`);
  }

  /** Ends the file-writing thread, if a write started one; resolving, reading and sweeping still work. */
  close(): void {
    this.#writer?.close();
  }

  /** Reads a stored file. */
  read(relativePath: string): Promise<Uint8Array> {
    return Deno.readFile(this.resolve(relativePath));
  }

  /** Removes temp files left by a crash; returns their relative paths. */
  async sweepTempFiles(): Promise<string[]> {
    const removed: string[] = [];
    const walk = async (directory: string): Promise<void> => {
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(directory));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(directory, entry.name);
        if (entry.isDirectory) await walk(path);
        else if (entry.isFile && entry.name.startsWith(".") && entry.name.endsWith(this.#tempSuffix)) {
          await Deno.remove(path);
          removed.push(relative(this.root, path));
        }
      }
    };
    await walk(this.root);
    return removed;
  }

  /** Creates missing directories, fsyncing each parent so the new entry survives a power loss. */
  async #ensureDir(directory: string): Promise<void> {
    if (this.#knownDirs.has(directory)) return;
    const missing: string[] = [];
    for (let dir = directory; !(await isDirectory(dir)); dir = dirname(dir)) missing.unshift(dir);
    for (const dir of missing) {
      try {
        await Deno.mkdir(dir, { mode: 0o750 });
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
      await syncDir(dirname(dir));
    }
    this.#knownDirs.add(directory);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** True if something exists at `path`; false only for "not found" (other errors, such as permissions, throw). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
