/**
 * Filesystem blob store with atomic, durable, never-overwriting writes.
 *
 * A write goes to a hidden temp file in the target directory, is fsync'd, then
 * hard-linked to its final name (link fails instead of overwriting, unlike
 * rename), the temp name is removed and the directory fsync'd; concurrent
 * writes into one directory share that fsync (see directory_sync.ts). A reader
 * or a sync tool therefore sees either nothing or the whole file, and a crash
 * leaves at most a temp file, which {@link FileBlobStore.sweepTempFiles} removes.
 */
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { DirectorySyncer, syncDir } from "./directory_sync.ts";

/** Thrown when a relative path would leave the store's root. */
export class UnsafePathError extends Error {
  override name = "UnsafePathError";
}

/** Atomic, durable file writes below one root directory. */
export class FileBlobStore {
  /** Absolute root directory of the store. */
  readonly root: string;
  readonly #tempSuffix: string;
  readonly #knownDirs = new Set<string>();
  readonly #directories: DirectorySyncer;

  /**
   * @param tempSuffix suffix of in-progress files, so sync tools can skip them (the original used `.tmp`).
   * @param directories shares the directory fsyncs that make links durable.
   */
  constructor(root: string, tempSuffix = ".tmp", directories = new DirectorySyncer()) {
    this.root = resolve(root);
    this.#tempSuffix = tempSuffix;
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
    const temp = join(directory, `.${crypto.randomUUID()}${this.#tempSuffix}`);
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o640 });
    let target: string;
    // The temp name goes whatever happens, also when writing it fails (disk full): a running server
    // must not leave partial files behind, nor hold on to their space.
    try {
      try {
        let written = 0;
        while (written < data.length) written += await file.write(data.subarray(written));
        await file.sync();
      } finally {
        file.close();
      }
      target = await this.#linkUnderNewName(temp, directory, firstName, nameFor);
    } finally {
      await Deno.remove(temp).catch(() => {});
    }
    // One fsync after both the link and the temp's removal makes the two durable together.
    await this.#directories.sync(directory);
    return relative(this.root, target);
  }

  /** Hard-links `temp` to the first free name `nameFor` offers in `directory`; returns that path. */
  async #linkUnderNewName(
    temp: string,
    directory: string,
    firstName: string,
    nameFor: (attempt: number) => string,
  ): Promise<string> {
    for (let attempt = 0;; attempt++) {
      const name = attempt === 0 ? firstName : nameFor(attempt);
      const target = this.resolve(name);
      if (dirname(target) !== directory) throw new UnsafePathError(`retry name left the directory: ${name}`);
      try {
        await Deno.link(temp, target);
        return target;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists) || attempt >= 1000) throw error;
      }
    }
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
